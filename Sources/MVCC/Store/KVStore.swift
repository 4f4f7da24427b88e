/// The revisioned key space: one main revision for the whole store, per-key generations, historical reads from the
/// compaction point up, and compaction (etcd's `mvcc` store).
///
/// Reads see a consistent snapshot at one revision; a write runs as a ``KVWriteTxn`` whose changes share one new
/// revision, or none when nothing changed. Values live in the ``MVCCBackend``; this type holds only the key index.
///
/// Not thread-safe: one owner (the service layer's lock) serialises every call.
public final class KVStore {
    /// Key → its revision history, in key order.
    var index = SortedKeyMap<KeyIndex>()
    /// Where records live.
    let backend: any MVCCBackend
    /// The newest committed main revision; 1 in a fresh store.
    public internal(set) var currentRevision: Int64
    /// The compaction point: reads below it fail. -1 when never compacted (etcd's initial value: compacting at 0
    /// then succeeds once).
    public internal(set) var compactRevision: Int64
    /// Set while a write transaction is open; only one may be.
    var writeInProgress = false
    /// Reads in parts in progress (``pinRead()``).
    var pinnedReads = 0
    /// Compactions made while reads in parts ran: the revisions each dropped from the index, whose records go to
    /// the backend once the last of those reads ends (``unpinRead()``).
    var deferredCompactions: [(revision: Int64, dropped: [Revision])] = []

    /// Opens a store over `backend`, rebuilding the key index from the records it holds.
    public init(backend: any MVCCBackend = InMemoryBackend()) throws(MVCCError) {
        self.backend = backend
        var index = SortedKeyMap<KeyIndex>()
        let counters = try backend.load { record in
            let keyIndex = index[record.kv.key] ?? {
                let created = KeyIndex(key: record.kv.key)
                index.insert(record.kv.key, created)
                return created
            }()
            if record.isTombstone {
                if keyIndex.isLive { keyIndex.tombstone(at: record.revision) }
            } else {
                keyIndex.put(at: record.revision, created: record.kv.createRevision, version: record.kv.version)
            }
        }
        self.index = index
        currentRevision = counters.currentRevision
        compactRevision = counters.compactRevision
        // A stop in the middle of a compaction's deletes (they run in bounded batches, a flush each) leaves rows
        // below the compaction point: compacting the rebuilt index again drops them and stages their deletes.
        if compactRevision > 0 {
            let dropped = compactIndex(at: compactRevision)
            if !dropped.isEmpty { try backend.compact(at: compactRevision, dropping: dropped) }
        }
    }

    /// Roughly the bytes of history held: the backend's revision log plus index overhead.
    public var estimatedSize: Int { backend.estimatedSize + index.count * 64 }
    /// What the backend's files take on disk, if it has files.
    public var storageSize: StorageSize? { backend.storageSize }
    /// Measures the backend's size afresh (``estimatedSize`` only grows between measurements).
    public func remeasureSize() { backend.remeasureSize() }

    /// The revision each key that exists at `revision` has there (its newest Put at or before it): what etcd's
    /// `HashKV` keeps of the history below the compaction point.
    public func visibleRevisions(at revision: Int64) -> Set<Revision> {
        var revisions = Set<Revision>()
        index.forEach { _, keyIndex in
            if let visible = keyIndex.visible(at: revision) { revisions.insert(visible.modified) }
        }
        return revisions
    }

    /// The number of keys the index tracks (live or with history).
    public var indexedKeyCount: Int { index.count }

    // MARK: Reads

    /// Checks a requested read revision against the store's history. ≤ 0 reads at `latest`.
    func resolveReadRevision(_ requested: Int64, latest: Int64) throws(MVCCError) -> Int64 {
        if requested <= 0 { return latest }
        if requested > latest { throw .futureRevision }
        if requested < compactRevision { throw .compacted }
        return requested
    }

    /// Reads the keys of `range` at `options.revision`.
    public func range(_ range: KeyRange, options: RangeOptions = RangeOptions()) throws(MVCCError) -> RangeResult {
        try self.range(range, options: options, latest: currentRevision, pending: [])
    }

    /// The range read shared by plain reads and reads inside a write transaction (`pending`: its uncommitted
    /// records, the one of sub-revision `i` at `pending[i]`; `latest`: the revision its writes will get).
    func range(
        _ range: KeyRange, options: RangeOptions, latest: Int64, pending: [RevisionRecord]
    ) throws(MVCCError) -> RangeResult {
        let plan = try self.plan(range, options: options, latest: latest)
        return plan.result(try load(plan.revisions[...], latest: latest, pending: pending))
    }

    /// The index half of a range read at `options.revision` (≤ 0: the current revision): which records make the
    /// result, in its order. Their values are read with ``load(_:)`` — all at once, or in parts between which the
    /// caller may let writers in, under ``pinRead()``: records are immutable, so the parts still make one
    /// consistent result.
    public func plan(_ range: KeyRange, options: RangeOptions) throws(MVCCError) -> RangePlan {
        try plan(range, options: options, latest: currentRevision)
    }

    func plan(_ range: KeyRange, options: RangeOptions, latest: Int64) throws(MVCCError) -> RangePlan {
        let readRevision = try resolveReadRevision(options.revision, latest: latest)
        // In key order; the keys themselves are not needed (the records carry them), so none is retained here.
        var matches: [KeyIndex.Visible] = []
        visit(range) { _, keyIndex in
            if let visible = keyIndex.visible(at: readRevision) { matches.append(visible) }
            return true
        }
        let count = Int64(matches.count)
        if options.countOnly { return RangePlan(count: count, more: false, revisions: [], valueOrder: nil) }

        if options.hasFilters {
            matches.removeAll { match in
                let mod = match.modified.main
                let create = match.created
                return (options.minModRevision > 0 && mod < options.minModRevision)
                    || (options.maxModRevision > 0 && mod > options.maxModRevision)
                    || (options.minCreateRevision > 0 && create < options.minCreateRevision)
                    || (options.maxCreateRevision > 0 && create > options.maxCreateRevision)
            }
        }

        let limit = options.limit > 0 ? Int(clamping: options.limit) : Int.max
        // etcd's quirk: with sort order NONE and no filters it takes the first limit+1 keys in key order *before*
        // sorting them by a non-key target. Matched exactly, so results agree with etcd's.
        if options.sortOrder == .none && !options.hasFilters && limit < matches.count - 1 {
            matches.removeSubrange((limit + 1)...)
        }
        if options.needsSort {
            if options.sortTarget == .value {
                // Sorted once the values are read (``RangePlan/result(_:)``).
                return RangePlan(
                    count: count, more: false, revisions: matches.map(\.modified),
                    valueOrder: (descending: options.sortOrder == .descend, limit: limit))
            }
            sortMatches(&matches, options)
        }
        return RangePlan(
            count: count, more: matches.count > limit, revisions: matches.prefix(limit).map(\.modified),
            valueOrder: nil)
    }

    /// The records at `revisions`, in order (a part of a ``RangePlan``'s).
    public func load(_ revisions: ArraySlice<Revision>) throws(MVCCError) -> [KeyValue] {
        try load(revisions, latest: currentRevision, pending: [])
    }

    func load(
        _ revisions: ArraySlice<Revision>, latest: Int64, pending: [RevisionRecord]
    ) throws(MVCCError) -> [KeyValue] {
        var kvs: [KeyValue] = []
        kvs.reserveCapacity(revisions.count)
        for modified in revisions {
            if modified.main == latest, modified.sub < pending.count {
                kvs.append(pending[Int(modified.sub)].kv)
                continue
            }
            guard let record = try backend.record(at: modified) else {
                throw .backend("missing record \(modified) for a key in the index")
            }
            kvs.append(record.kv)
        }
        return kvs
    }

    // MARK: Reads in parts

    /// Starts a read whose records are loaded in parts with the store's owner letting writers in between: until
    /// the matching ``unpinRead()``, a compaction still drops revisions from the index at once (reads below it
    /// fail) but keeps their records, which the read may still need, and hands them to the backend afterwards.
    public func pinRead() {
        pinnedReads += 1
    }

    /// Ends a read started with ``pinRead()``. When it was the last one, compactions that waited hand their
    /// dropped records to the backend; returns whether any did (the backend's flushes then delete them).
    public func unpinRead() throws(MVCCError) -> Bool {
        precondition(pinnedReads > 0, "unpinRead without pinRead")
        pinnedReads -= 1
        guard pinnedReads == 0, !deferredCompactions.isEmpty else { return false }
        let waiting = deferredCompactions
        deferredCompactions.removeAll()
        for compaction in waiting { try backend.compact(at: compaction.revision, dropping: compaction.dropped) }
        return true
    }

    /// Whether a compaction's records are still to be deleted: waiting for reads in parts, or in the backend.
    public var compactionPending: Bool { !deferredCompactions.isEmpty || backend.compactionPending }

    /// Calls `body` for each indexed key in `range`, in ascending key order, until it returns false.
    func visit(_ range: KeyRange, _ body: ([UInt8], KeyIndex) -> Bool) {
        if range.isSingleKey {
            if let keyIndex = index[range.key] { _ = body(range.key, keyIndex) }
            return
        }
        if range.isEmpty { return }
        index.forEach(from: range.key, upTo: range.upperBound, body)
    }

    private func sortMatches(_ matches: inout [KeyIndex.Visible], _ options: RangeOptions) {
        let descending = options.sortOrder == .descend
        switch options.sortTarget {
        case .key:
            if descending { matches.reverse() }
        // Go's sort, as etcd's: keys whose sort values tie come back in its order (descending is Go's
        // `sort.Reverse`, the same sort with the comparison's operands swapped).
        case .version:
            GoSort.sort(&matches) { descending ? $1.version < $0.version : $0.version < $1.version }
        case .create:
            GoSort.sort(&matches) { descending ? $1.created < $0.created : $0.created < $1.created }
        case .mod:
            GoSort.sort(&matches) {
                descending ? $1.modified.main < $0.modified.main : $0.modified.main < $1.modified.main
            }
        case .value:
            break
        }
    }

    /// The key's version as of `revision` (nil when it did not exist then), with its value.
    public func get(_ key: [UInt8], at revision: Int64) throws(MVCCError) -> KeyValue? {
        guard let visible = index[key]?.visible(at: revision) else { return nil }
        return try backend.record(at: visible.modified)?.kv
    }

    /// The stored changes with main revisions in `range`, in revision order (for watchers catching up).
    public func records(mainRevisions range: ClosedRange<Int64>) throws(MVCCError) -> [RevisionRecord] {
        try backend.records(mainRevisions: range)
    }

    // MARK: Writes

    /// Opens the write transaction. Only one may be open; it must be committed or discarded.
    public func beginWrite() -> KVWriteTxn {
        precondition(!writeInProgress, "a write transaction is already open")
        writeInProgress = true
        return KVWriteTxn(store: self)
    }
}
