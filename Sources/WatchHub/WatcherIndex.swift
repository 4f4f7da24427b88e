import MVCC

/// Finds the caught-up watchers whose range holds a key, without looking at the others: a hash map for
/// single-key watchers, and for range watchers an array of their distinct ranges sorted by start with a running
/// maximum of ends, which a lookup walks back from the key only as far as some range can still reach it.
///
/// Watchers sharing a key or a range share one bucket; insert and remove are O(1) (a watcher knows its slot).
/// The sorted array is rebuilt lazily, on the first lookup after the set of distinct ranges changed, so a burst
/// of creations costs one sort. Guarded by the hub lock.
final class WatcherIndex {
    /// The watchers of one single-key bucket: most keys have one watcher, which is stored without a list.
    private enum Bucket {
        case one(Watcher)
        case many(WatcherList)
    }

    /// Single-key watchers by key, in a sorted chunked map: denser than a hash table (no empty slots), which
    /// matters with a watcher per key by the hundred thousand.
    private var single = SortedKeyMap<Bucket>(maxChunkCount: 256)
    /// Range watchers by range.
    private var ranges: [KeyRange: WatcherList] = [:]
    /// Distinct ranges sorted by start key, with the largest end among each prefix of that order (nil: unbounded).
    private var sorted: [(range: KeyRange, maxEnd: [UInt8]?)] = []
    /// Set when `ranges` gained or lost a distinct range since `sorted` was built.
    private var dirty = false

    /// The number of watchers indexed.
    private(set) var count = 0

    /// Adds a caught-up watcher; `nextRevision` is the first revision it can be sent (the head's successor).
    func insert(_ watcher: Watcher, nextRevision: Int64) {
        if watcher.range.isSingleKey {
            switch single[watcher.range.key] {
            case nil:
                watcher.slot = 0
                single.insert(watcher.range.key, .one(watcher))
            case .one(let first):
                let list = WatcherList(first, nextRevision: nextRevision)
                list.append(watcher, nextRevision: nextRevision)
                single.insert(watcher.range.key, .many(list))
            case .many(let list):
                list.append(watcher, nextRevision: nextRevision)
            }
        } else if let list = ranges[watcher.range] {
            list.append(watcher, nextRevision: nextRevision)
        } else {
            watcher.slot = 0
            ranges[watcher.range] = WatcherList(watcher, nextRevision: nextRevision)
            dirty = true
        }
        count += 1
    }

    func remove(_ watcher: Watcher) {
        guard watcher.slot >= 0 else { return }
        if watcher.range.isSingleKey {
            switch single[watcher.range.key] {
            case .one(let only) where only === watcher:
                single.remove(watcher.range.key)
            case .many(let list) where list.contains(watcher):
                list.remove(watcher)
                if list.members.count == 1 {
                    single.insert(watcher.range.key, .one(list.members[0]))
                }
            default:
                return
            }
        } else {
            guard let list = ranges[watcher.range], list.contains(watcher) else { return }
            list.remove(watcher)
            if list.members.isEmpty {
                ranges[watcher.range] = nil
                dirty = true
            }
        }
        watcher.slot = -1
        count -= 1
    }

    /// Calls `body` for every watcher whose range holds `key`.
    func forEachMatch(_ key: [UInt8], _ body: (Watcher) -> Void) {
        forEachMatchingBucket(key, single: body) { list in
            for watcher in list.members { body(watcher) }
        }
    }

    /// The bucket of several single-key watchers of `key`, if it has one.
    func list(for key: [UInt8]) -> WatcherList? {
        if case .many(let list) = single[key] { list } else { nil }
    }

    /// Calls `list` for each bucket of several watchers whose key or range holds `key`, and `single` for a lone
    /// single-key watcher of `key`.
    func forEachMatchingBucket(_ key: [UInt8], single lone: (Watcher) -> Void, list: (WatcherList) -> Void) {
        switch single[key] {
        case .one(let watcher): lone(watcher)
        case .many(let bucket): list(bucket)
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
            if entry.range.contains(key), let bucket = ranges[entry.range] {
                list(bucket)
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

/// The watchers sharing one key or one range. A class, so that adding or removing a member edits the one array in
/// place (an array held in an enum or a dictionary value would be copied whole by each edit: O(n) per removal,
/// O(n²) when thousands of watchers of one key are parked or closed at once). Each member's `slot` is its
/// position here. Guarded by the hub lock.
final class WatcherList {
    private(set) var members: [Watcher]
    /// The members grouped by stream, when every member takes every event as it is: what the hub's publish queues
    /// for a revision's one event without visiting each member. Kept up as members join while all of them do (so a
    /// burst of creations leaves them ready for the first publish, which would otherwise visit every watcher);
    /// otherwise built (``buildStreamGroups()``) by the hub once the membership has stayed the same over a publish.
    /// Dropped by a removal, or by a member that does not take every event.
    private(set) var streamGroups: [StreamGroup]?
    /// Where each stream's group is in `streamGroups`, by stream, while the groups are kept.
    private var groupPositions: [ObjectIdentifier: Int] = [:]
    /// Publishes that visited every member since the membership last changed (the hub builds `streamGroups` on the
    /// second: a list whose watchers are parked and resumed all the time never pays for building them).
    var publishesSinceChange: UInt8 = 0

    /// A list of one watcher; `nextRevision` is the first revision it can be sent.
    init(_ first: Watcher, nextRevision: Int64) {
        first.slot = 0
        members = [first]
        if first.takesEveryEvent(from: nextRevision) {
            streamGroups = []
            addToGroups(first)
        }
    }

    /// Adds a member; `nextRevision` is the first revision it can be sent.
    func append(_ watcher: Watcher, nextRevision: Int64) {
        watcher.slot = Int32(members.count)
        members.append(watcher)
        if streamGroups != nil && watcher.takesEveryEvent(from: nextRevision) {
            addToGroups(watcher)
        } else {
            membershipChanged()
        }
    }

    /// Groups every member by stream, each group in member order: called by the hub when every member takes every
    /// event and the membership held over the publishes that visited each of them.
    func buildStreamGroups() {
        streamGroups = []
        groupPositions.removeAll()
        for watcher in members { addToGroups(watcher) }
    }

    /// Adds `watcher` (the groups being kept) at the end of its stream's group, a new group at the end if its
    /// stream has none yet: where grouping the members in member order puts it.
    private func addToGroups(_ watcher: Watcher) {
        let stream = ObjectIdentifier(watcher.stream)
        let position: Int
        if let known = groupPositions[stream] {
            position = known
        } else {
            position = streamGroups!.count
            streamGroups!.append(StreamGroup(stream: watcher.stream))
            groupPositions[stream] = position
        }
        if watcher.wantsPrevKV {
            streamGroups![position].withPrevKV.append(watcher.id)
        } else {
            streamGroups![position].plain.append(watcher.id)
        }
    }

    private func membershipChanged() {
        streamGroups = nil
        groupPositions.removeAll()
        publishesSinceChange = 0
    }

    func contains(_ watcher: Watcher) -> Bool {
        let slot = Int(watcher.slot)
        return slot >= 0 && slot < members.count && members[slot] === watcher
    }

    /// Swap-removes a member (the caller checked `contains`): O(1).
    func remove(_ watcher: Watcher) {
        let slot = Int(watcher.slot)
        let last = members.removeLast()
        if last !== watcher {
            members[slot] = last
            last.slot = Int32(slot)
        }
        membershipChanged()
    }
}

/// The members of a ``WatcherList`` on one stream, by ID, without and with prev_kv: for a single-event revision
/// they get one shared response each, whichever the event.
struct StreamGroup {
    let stream: HubStream
    var plain: [Int64] = []
    var withPrevKV: [Int64] = []
}
