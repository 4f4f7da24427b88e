/// Where the store keeps its revision log and the little it needs to restart. The narrow seam between the MVCC logic
/// (key index, revisions, compaction rules) and durable storage: in-memory now, SQLite and PostgreSQL later.
///
/// The store calls it while holding exclusive access, one call at a time. A backend is either durable at once
/// (``needsFlush`` false: a commit is done when ``commit(revision:records:)`` returns) or stages commits and makes
/// them durable in order, many at a time, in ``flush()`` (group commit), which one committer thread calls without
/// the store's lock; writes are acknowledged to clients only once a flush covered them.
public protocol MVCCBackend: AnyObject {
    /// Hands every record not compacted away to `visit`, in revision order, and returns the two counters. Values
    /// may be left empty: the store rebuilds only its key index from them (revision, key, tombstone), so start-up
    /// memory stays proportional to the keys, not to the history.
    func load(_ visit: (RevisionRecord) -> Void) throws(MVCCError) -> BackendCounters

    /// Stores the records of one write (all with main revision `revision`) atomically, with `revision` as the new
    /// current revision.
    func commit(revision: Int64, records: [RevisionRecord]) throws(MVCCError)

    /// The record at `revision`, or nil if it was compacted away or never existed.
    func record(at revision: Revision) throws(MVCCError) -> RevisionRecord?

    /// Every record with main revision in `range`, in revision order (for watch catch-up).
    func records(mainRevisions range: ClosedRange<Int64>) throws(MVCCError) -> [RevisionRecord]

    /// Records that the store is compacted at `revision` and deletes the rows `dropped`.
    func compact(at revision: Int64, dropping dropped: [Revision]) throws(MVCCError)

    /// Roughly how many bytes the stored records take (what `--quota-backend-bytes` is checked against). It may
    /// only grow between calls of ``remeasureSize()``.
    var estimatedSize: Int { get }

    /// Replaces the running estimate with a measurement (SQLite: the pages in use), which sees what deletes and
    /// compaction freed.
    func remeasureSize()

    /// The bytes the backend's files take on disk and the part of them in use (`Maintenance.Status`'s dbSize and
    /// dbSizeInUse); nil for a backend without files.
    var storageSize: StorageSize? { get }

    /// Whether commits only become durable in ``flush()``.
    var needsFlush: Bool { get }

    /// Makes every staged commit and compaction durable, in order, with one sync. Returns the newest revision now
    /// durable, or nil when nothing was staged.
    func flush() throws(MVCCError) -> Int64?

    /// Whether anything still waits for a flush (compaction deletes its rows a batch per flush).
    var hasStagedWork: Bool { get }

    /// Whether rows a compaction dropped are still to be deleted (by the next flushes).
    var compactionPending: Bool { get }

    /// Whether housekeeping is due (SQLite: the write-ahead log should be checkpointed).
    var checkpointDue: Bool { get }

    /// Housekeeping after a flush was acknowledged (SQLite: checkpoint the write-ahead log). Called by whoever
    /// holds the right to flush, never concurrently with ``flush()``.
    func checkpointIfNeeded()

    /// Does ahead the part of the next flush that does not depend on what it will write (SQLite: opens its
    /// transaction), while the writer is idle anyway. Called by whoever holds the right to flush, never concurrently
    /// with ``flush()``.
    func prepareNextFlush()

    /// Ends what ``prepareNextFlush()`` began without writing anything (SQLite: the empty transaction commits). Called
    /// when the committer stops, by whoever holds the right to flush.
    func endPreparedFlush()

    /// Rewrites the backend's files without the free space that deletes and compaction left behind (etcd's
    /// defragmentation), keeping every record. Called by whoever holds the right to flush, never concurrently with
    /// ``flush()``; reads may run meanwhile.
    func defragment() throws(MVCCError)

    /// Writes a consistent copy of the stored data (the newest durable revision, whole) to a new file and returns
    /// its path; the caller removes it. Any thread, concurrently with everything else. A backend without files
    /// throws.
    func writeSnapshot() throws(MVCCError) -> String
}

extension MVCCBackend {
    public var storageSize: StorageSize? { nil }
    public func remeasureSize() {}
    public var needsFlush: Bool { false }
    public func flush() throws(MVCCError) -> Int64? { nil }
    public var hasStagedWork: Bool { false }
    public var compactionPending: Bool { false }
    public var checkpointDue: Bool { false }
    public func checkpointIfNeeded() {}
    public func prepareNextFlush() {}
    public func endPreparedFlush() {}
    public func defragment() throws(MVCCError) {}
    public func writeSnapshot() throws(MVCCError) -> String { throw .backend("this store keeps no files to snapshot") }
}

/// The counters a backend hands the store at start.
public struct BackendCounters: Sendable {
    /// The newest committed main revision (1 for a fresh store).
    public var currentRevision: Int64
    /// The compaction point (-1 when never compacted, as in etcd, so that compacting at 0 succeeds once).
    public var compactRevision: Int64

    public init(currentRevision: Int64 = 1, compactRevision: Int64 = -1) {
        self.currentRevision = currentRevision
        self.compactRevision = compactRevision
    }
}
