public import MVCC

/// Finds the caught-up watchers whose range holds a key, without looking at the others: a hash map for
/// single-key watchers, and for range watchers an array of their distinct ranges sorted by start with a running
/// maximum of ends, which a lookup walks back from the key only as far as some range can still reach it.
///
/// Watchers sharing a key or a range share one bucket; insert and remove are O(1) (a watcher knows its slot).
/// The sorted array is rebuilt lazily, on the first lookup after the set of distinct ranges changed, so a burst
/// of creations costs one sort. Guarded by the hub lock.
final class WatcherIndex {
    /// Single-key watchers by key.
    private var single: [[UInt8]: [Watcher]] = [:]
    /// Range watchers by range.
    private var ranges: [KeyRange: [Watcher]] = [:]
    /// Distinct ranges sorted by start key, with the largest end among each prefix of that order (nil: unbounded).
    private var sorted: [(range: KeyRange, maxEnd: [UInt8]?)] = []
    /// Set when `ranges` gained or lost a distinct range since `sorted` was built.
    private var dirty = false

    /// The number of watchers indexed.
    private(set) var count = 0

    func insert(_ watcher: Watcher) {
        if watcher.range.isSingleKey {
            if let existing = single.index(forKey: watcher.range.key) {
                // Share the stored key's bytes instead of keeping a second copy.
                watcher.range.key = single.keys[existing]
                watcher.slot = single.values[existing].count
                single.values[existing].append(watcher)
            } else {
                watcher.slot = 0
                single[watcher.range.key] = [watcher]
            }
        } else {
            if ranges[watcher.range] == nil { dirty = true }
            watcher.slot = ranges[watcher.range, default: []].count
            ranges[watcher.range, default: []].append(watcher)
        }
        count += 1
    }

    func remove(_ watcher: Watcher) {
        guard watcher.slot >= 0 else { return }
        if watcher.range.isSingleKey {
            Self.remove(watcher, from: &single[watcher.range.key])
        } else {
            Self.remove(watcher, from: &ranges[watcher.range])
            if ranges[watcher.range] == nil { dirty = true }
        }
        watcher.slot = -1
        count -= 1
    }

    /// Swap-removes `watcher` from its bucket, dropping the bucket when it empties.
    private static func remove(_ watcher: Watcher, from bucket: inout [Watcher]?) {
        guard var watchers = bucket, watcher.slot < watchers.count, watchers[watcher.slot] === watcher else { return }
        bucket = nil  // release the dictionary's reference so the array is uniquely owned while edited
        let last = watchers.removeLast()
        if last !== watcher {
            watchers[watcher.slot] = last
            last.slot = watcher.slot
        }
        if !watchers.isEmpty { bucket = watchers }
    }

    /// Calls `body` for every watcher whose range holds `key`.
    func forEachMatch(_ key: [UInt8], _ body: (Watcher) -> Void) {
        if let watchers = single[key] {
            for watcher in watchers { body(watcher) }
        }
        guard !ranges.isEmpty else { return }
        if dirty { rebuild() }
        // The last range starting at or before the key.
        var low = 0
        var high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if KeyOrder.less(key, sorted[mid].range.key) { high = mid } else { low = mid + 1 }
        }
        var index = low - 1
        while index >= 0 {
            let entry = sorted[index]
            if let maxEnd = entry.maxEnd, !KeyOrder.less(key, maxEnd) { break }  // nothing at or before reaches key
            if entry.range.contains(key), let watchers = ranges[entry.range] {
                for watcher in watchers { body(watcher) }
            }
            index -= 1
        }
    }

    private func rebuild() {
        let distinct = ranges.keys.sorted { KeyOrder.less($0.key, $1.key) }
        sorted.removeAll(keepingCapacity: true)
        var maxEnd: [UInt8]? = []
        var first = true
        for range in distinct {
            let end = range.upperBound
            if first {
                maxEnd = end
                first = false
            } else if let current = maxEnd {
                if let end { if KeyOrder.less(current, end) { maxEnd = end } } else { maxEnd = nil }
            }
            sorted.append((range, maxEnd))
        }
        dirty = false
    }
}
