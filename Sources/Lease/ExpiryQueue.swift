/// A binary min-heap of (expiry, lease ID): the lease that expires first is found in O(1) and removed in O(log n).
///
/// Renewing a lease pushes a new entry rather than moving the old one; stale entries are recognised (their expiry
/// no longer matches the lease's) and dropped when they reach the top.
struct ExpiryQueue {
    private var heap: [(expiry: Int64, id: Int64)] = []

    var count: Int { heap.count }

    mutating func push(expiry: Int64, id: Int64) {
        heap.append((expiry, id))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if heap[parent].expiry <= heap[child].expiry { break }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    var first: (expiry: Int64, id: Int64)? { heap.first }

    mutating func popFirst() -> (expiry: Int64, id: Int64)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].expiry < heap[smallest].expiry { smallest = left }
            if right < heap.count && heap[right].expiry < heap[smallest].expiry { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
