/// Go 1.19's `sort.Sort` (pattern-defeating quicksort, `sort/zsortinterface.go`), step for step: the sort etcd 3.4
/// applies to a Range's results when they are ordered by anything but ascending key. It is not stable, and the
/// order it leaves keys whose sort values tie in is part of etcd's answer; Swift's sort keeps such keys in key
/// order, which differs from etcd's for more than 12 results. Not fast, not meant to be: only sorted reads use it.
enum GoSort {
    /// Sorts `elements` in place as Go's `sort.Sort` would with `less` as the `Less` of the data.
    static func sort<Element>(_ elements: inout [Element], by less: (Element, Element) -> Bool) {
        let count = elements.count
        guard count > 1 else { return }
        withoutActuallyEscaping(less) { less in
            var data = Sorting(elements: elements, less: less)
            // The sort's copy is then the only reference to the storage: its swaps do not copy the array.
            elements = []
            // Go's `bits.Len(uint(n))`.
            data.pdqsort(0, count, limit: Int.bitWidth - count.leadingZeroBitCount)
            elements = data.elements
        }
    }

    /// Go's `sortedHint`.
    private enum Hint {
        case unknown
        case increasing
        case decreasing
    }

    /// The data being sorted with Go's `Less` and `Swap` over indices.
    private struct Sorting<Element> {
        var elements: [Element]
        let less: (Element, Element) -> Bool

        func less(_ i: Int, _ j: Int) -> Bool { less(elements[i], elements[j]) }
        mutating func swap(_ i: Int, _ j: Int) { elements.swapAt(i, j) }

        mutating func insertionSort(_ a: Int, _ b: Int) {
            var i = a + 1
            while i < b {
                var j = i
                while j > a && less(j, j - 1) {
                    swap(j, j - 1)
                    j -= 1
                }
                i += 1
            }
        }

        mutating func siftDown(_ lo: Int, _ hi: Int, _ first: Int) {
            var root = lo
            while true {
                var child = 2 * root + 1
                if child >= hi { return }
                if child + 1 < hi && less(first + child, first + child + 1) { child += 1 }
                if !less(first + root, first + child) { return }
                swap(first + root, first + child)
                root = child
            }
        }

        mutating func heapSort(_ a: Int, _ b: Int) {
            let first = a
            let hi = b - a
            var i = (hi - 1) / 2
            while i >= 0 {
                siftDown(i, hi, first)
                i -= 1
            }
            i = hi - 1
            while i >= 0 {
                swap(first, first + i)
                siftDown(0, i, first)
                i -= 1
            }
        }

        mutating func pdqsort(_ start: Int, _ end: Int, limit initialLimit: Int) {
            let maxInsertion = 12
            var (a, b, limit) = (start, end, initialLimit)
            var wasBalanced = true
            var wasPartitioned = true
            while true {
                let length = b - a
                if length <= maxInsertion {
                    insertionSort(a, b)
                    return
                }
                if limit == 0 {
                    heapSort(a, b)
                    return
                }
                if !wasBalanced {
                    breakPatterns(a, b)
                    limit -= 1
                }
                var (pivot, hint) = choosePivot(a, b)
                if hint == .decreasing {
                    reverseRange(a, b)
                    pivot = (b - 1) - (pivot - a)
                    hint = .increasing
                }
                if wasBalanced && wasPartitioned && hint == .increasing {
                    if partialInsertionSort(a, b) { return }
                }
                if a > 0 && !less(a - 1, pivot) {
                    a = partitionEqual(a, b, pivot)
                    continue
                }
                let (mid, alreadyPartitioned) = partition(a, b, pivot)
                wasPartitioned = alreadyPartitioned
                let (leftLength, rightLength) = (mid - a, b - mid)
                let balanceThreshold = length / 8
                if leftLength < rightLength {
                    wasBalanced = leftLength >= balanceThreshold
                    pdqsort(a, mid, limit: limit)
                    a = mid + 1
                } else {
                    wasBalanced = rightLength >= balanceThreshold
                    pdqsort(mid + 1, b, limit: limit)
                    b = mid
                }
            }
        }

        mutating func partition(_ a: Int, _ b: Int, _ pivot: Int) -> (Int, Bool) {
            swap(a, pivot)
            var (i, j) = (a + 1, b - 1)
            while i <= j && less(i, a) { i += 1 }
            while i <= j && !less(j, a) { j -= 1 }
            if i > j {
                swap(j, a)
                return (j, true)
            }
            swap(i, j)
            i += 1
            j -= 1
            while true {
                while i <= j && less(i, a) { i += 1 }
                while i <= j && !less(j, a) { j -= 1 }
                if i > j { break }
                swap(i, j)
                i += 1
                j -= 1
            }
            swap(j, a)
            return (j, false)
        }

        mutating func partitionEqual(_ a: Int, _ b: Int, _ pivot: Int) -> Int {
            swap(a, pivot)
            var (i, j) = (a + 1, b - 1)
            while true {
                while i <= j && !less(a, i) { i += 1 }
                while i <= j && less(a, j) { j -= 1 }
                if i > j { break }
                swap(i, j)
                i += 1
                j -= 1
            }
            return i
        }

        mutating func partialInsertionSort(_ a: Int, _ b: Int) -> Bool {
            let maxSteps = 5
            let shortestShifting = 50
            var i = a + 1
            for _ in 0..<maxSteps {
                while i < b && !less(i, i - 1) { i += 1 }
                if i == b { return true }
                if b - a < shortestShifting { return false }
                swap(i, i - 1)
                if i - a >= 2 {
                    // Go 1.19 shifts down to index 1, not to `a + 1`: kept, as etcd's sort does it.
                    var j = i - 1
                    while j >= 1 {
                        if !less(j, j - 1) { break }
                        swap(j, j - 1)
                        j -= 1
                    }
                }
                if b - i >= 2 {
                    var j = i + 1
                    while j < b {
                        if !less(j, j - 1) { break }
                        swap(j, j - 1)
                        j += 1
                    }
                }
            }
            return false
        }

        mutating func breakPatterns(_ a: Int, _ b: Int) {
            let length = b - a
            guard length >= 8 else { return }
            var random = UInt64(length)
            // Go's `nextPowerOfTwo`: 1 << bits.Len(uint(length)).
            let modulus = UInt(1) << UInt(Int.bitWidth - length.leadingZeroBitCount)
            var index = a + (length / 4) * 2 - 1
            while index <= a + (length / 4) * 2 + 1 {
                random ^= random << 13
                random ^= random >> 17
                random ^= random << 5
                var other = Int(UInt(truncatingIfNeeded: random) & (modulus - 1))
                if other >= length { other -= length }
                swap(index, a + other)
                index += 1
            }
        }

        mutating func choosePivot(_ a: Int, _ b: Int) -> (Int, Hint) {
            let shortestNinther = 50
            let maxSwaps = 4 * 3
            let l = b - a
            var swaps = 0
            var i = a + l / 4 * 1
            var j = a + l / 4 * 2
            var k = a + l / 4 * 3
            if l >= 8 {
                if l >= shortestNinther {
                    i = median(i - 1, i, i + 1, &swaps)
                    j = median(j - 1, j, j + 1, &swaps)
                    k = median(k - 1, k, k + 1, &swaps)
                }
                j = median(i, j, k, &swaps)
            }
            switch swaps {
            case 0: return (j, .increasing)
            case maxSwaps: return (j, .decreasing)
            default: return (j, .unknown)
            }
        }

        func order2(_ a: Int, _ b: Int, _ swaps: inout Int) -> (Int, Int) {
            if less(b, a) {
                swaps += 1
                return (b, a)
            }
            return (a, b)
        }

        /// Go's `median`: the index of the median of the three, counting the swaps its three `order2` make.
        func median(_ a: Int, _ b: Int, _ c: Int, _ swaps: inout Int) -> Int {
            let (low, middle) = order2(a, b, &swaps)
            let (lower, _) = order2(middle, c, &swaps)
            return order2(low, lower, &swaps).1
        }

        mutating func reverseRange(_ a: Int, _ b: Int) {
            var (i, j) = (a, b - 1)
            while i < j {
                swap(i, j)
                i += 1
                j -= 1
            }
        }
    }
}
