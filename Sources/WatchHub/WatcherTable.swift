/// A stream's watchers by ID. Auto-assigned IDs count up from 0, so they live in a plain array (8 bytes each);
/// client-chosen IDs elsewhere go to a dictionary. Guarded by the hub lock.
struct WatcherTable {
    /// Watchers whose ID is their index.
    private var dense: [Watcher?] = []
    /// Watchers with IDs outside `dense`.
    private var sparse: [Int64: Watcher] = [:]
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    subscript(id: Int64) -> Watcher? {
        get {
            if id >= 0 && id < dense.count { return dense[Int(id)] }
            return sparse[id]
        }
        set {
            let old = self[id]
            if id >= 0 && id < dense.count {
                dense[Int(id)] = newValue
                while let last = dense.last, last == nil { dense.removeLast() }
            } else if let newValue, id == dense.count, sparse[id] == nil {
                dense.append(newValue)
            } else {
                sparse[id] = newValue
            }
            count += (newValue == nil ? 0 : 1) - (old == nil ? 0 : 1)
        }
    }

    mutating func removeValue(forKey id: Int64) -> Watcher? {
        let old = self[id]
        if old != nil { self[id] = nil }
        return old
    }

    mutating func removeAll() {
        dense.removeAll()
        sparse.removeAll()
        count = 0
    }

    /// Calls `body` for every watcher, in no particular order, without copying the table.
    func forEach(_ body: (Watcher) -> Void) {
        for case let watcher? in dense { body(watcher) }
        for watcher in sparse.values { body(watcher) }
    }

    /// Whether some watcher satisfies `predicate`.
    func contains(where predicate: (Watcher) -> Bool) -> Bool {
        for case let watcher? in dense where predicate(watcher) { return true }
        return sparse.values.contains(where: predicate)
    }
}
