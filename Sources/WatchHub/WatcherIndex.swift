public import MVCC

/// Finds the caught-up watchers whose range holds a key, without looking at the others: a hash map for
/// single-key watchers, and for range watchers an array of their distinct ranges sorted by start with a running
/// maximum of ends, which a lookup walks back from the key only as far as some range can still reach it.
///
/// Watchers sharing a key or a range share one bucket; insert and remove are O(1) (a watcher knows its slot).
/// The sorted array is rebuilt lazily, on the first lookup after the set of distinct ranges changed, so a burst
/// of creations costs one sort. Guarded by the hub lock.
final class WatcherIndex {
    /// The watchers of one single-key bucket: most keys have one watcher, which is stored without an array.
    private enum Bucket {
        case one(Watcher)
        case many([Watcher])
    }

    /// Single-key watchers by key, in a sorted chunked map: denser than a hash table (no empty slots), which
    /// matters with a watcher per key by the hundred thousand.
    private var single = SortedKeyMap<Bucket>(maxChunkCount: 256)
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
            switch single[watcher.range.key] {
            case nil:
                watcher.slot = 0
                single.insert(watcher.range.key, .one(watcher))
            case .one(let first):
                watcher.slot = 1
                single.insert(watcher.range.key, .many([first, watcher]))
            case .many(var watchers):
                single.insert(watcher.range.key, .one(watcher))  // release the array while it is edited
                watcher.slot = Int32(watchers.count)
                watchers.append(watcher)
                single.insert(watcher.range.key, .many(watchers))
            }
        } else {
            if ranges[watcher.range] == nil { dirty = true }
            watcher.slot = Int32(ranges[watcher.range, default: []].count)
            ranges[watcher.range, default: []].append(watcher)
        }
        count += 1
    }

    func remove(_ watcher: Watcher) {
        guard watcher.slot >= 0 else { return }
        if watcher.range.isSingleKey {
            switch single[watcher.range.key] {
            case .one(let only) where only === watcher:
                single.remove(watcher.range.key)
            case .many(let watchers):
                var bucket: [Watcher]? = watchers
                single.insert(watcher.range.key, .one(watcher))  // release the array while it is edited
                Self.remove(watcher, from: &bucket)
                if let bucket {
                    if bucket.count == 1 {
                        bucket[0].slot = 0
                        single.insert(watcher.range.key, .one(bucket[0]))
                    } else {
                        single.insert(watcher.range.key, .many(bucket))
                    }
                } else {
                    single.remove(watcher.range.key)
                }
            default:
                return
            }
        } else {
            Self.remove(watcher, from: &ranges[watcher.range])
            if ranges[watcher.range] == nil { dirty = true }
        }
        watcher.slot = -1
        count -= 1
    }

    /// Swap-removes `watcher` from its bucket, dropping the bucket when it empties.
    private static func remove(_ watcher: Watcher, from bucket: inout [Watcher]?) {
        let slot = Int(watcher.slot)
        guard var watchers = bucket, slot < watchers.count, watchers[slot] === watcher else { return }
        bucket = nil  // release the dictionary's reference so the array is uniquely owned while edited
        let last = watchers.removeLast()
        if last !== watcher {
            watchers[slot] = last
            last.slot = watcher.slot
        }
        if !watchers.isEmpty { bucket = watchers }
    }

    /// Calls `body` for every watcher whose range holds `key`.
    func forEachMatch(_ key: [UInt8], _ body: (Watcher) -> Void) {
        switch single[key] {
        case .one(let watcher): body(watcher)
        case .many(let watchers): for watcher in watchers { body(watcher) }
        case nil: break
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
