public import Lease
public import MVCC
import Foundation
import Glibc
import NIOConcurrencyHelpers

/// The embedded durable backend: the revision log in SQLite (WAL mode, full sync) under `--data-dir`, with group
/// commit.
///
/// Schema (shared in spirit with a later PostgreSQL backend): `revisions` holds one row per change (main and sub
/// revision, key, value, create revision, version, lease, tombstone); `meta` holds the counters and the cluster
/// identity; `leases` holds lease IDs and TTLs. A change's row is keyed by its revision packed into SQLite's rowid
/// (``RevisionRowID``; `main` and `sub` are columns computed from it): a rowid table keeps rows of up to ~4 KiB in
/// its leaves, where the `WITHOUT ROWID` table of schema 1 spilled every row over ~1 KiB into an overflow page of
/// its own (a 1,000-byte value took 4.7 KiB; etcd's bbolt 1.4 KiB). A database of schema 1 is converted at start.
///
/// Commits are staged in memory (and readable at once from there); ``flush()``, run by one committer thread,
/// writes everything staged in one SQLite transaction and one sync, so concurrent writes share a sync. Compaction
/// deletes its rows a bounded batch per flush, so it never stalls writes behind one huge transaction.
public final class SQLiteBackend: MVCCBackend, LeaseJournal, @unchecked Sendable {
    /// What a flush has to write, in order.
    private enum Operation {
        case records(revision: Int64, [RevisionRecord])
        case compact(revision: Int64)
        case grantLease(id: Int64, ttl: Int64)
        case revokeLease(id: Int64)
    }

    /// The connection the committer writes through. Used only by `flush()` (one thread) and `init`.
    private let writer: SQLiteDatabase
    /// The connection reads go through. Guarded by the store's lock (the caller's).
    private let reader: SQLiteDatabase
    /// `BEGIN IMMEDIATE` and `COMMIT` of a flush, prepared once: `sqlite3_exec` would compile them on every flush.
    private let begin: SQLiteStatement
    private let commit: SQLiteStatement
    private let insertRecord: SQLiteStatement
    private let deleteRecord: SQLiteStatement
    private let setMeta: SQLiteStatement
    private let insertLease: SQLiteStatement
    private let deleteLease: SQLiteStatement
    private let selectRecord: SQLiteStatement
    private let selectRange: SQLiteStatement
    /// The database's page size, page count and free pages, on the reader (for ``storageSize``).
    private let pageFigures: SQLiteStatement
    /// `vigil.db`'s path.
    private let path: String

    /// Guards the staging fields below, shared by the store's thread and the committer.
    private let staging = NIOLock()
    /// Operations not yet handed to a flush. Guarded by `staging`.
    private var staged: [Operation] = []
    /// Recent writes: those staged or being flushed (readable before they reach SQLite) and recently flushed ones.
    /// Guarded by `staging`.
    private var recent = RecentWrites(maxBytes: 48 << 20)
    /// Rows compaction dropped that are still to be deleted, a batch per flush. Guarded by `staging`.
    private var pendingDeletes: [Revision] = []
    /// Rows deleted per flush at most.
    private let deleteBatch = 10_000

    /// Records read back from SQLite, so hot keys are not read again. Guarded by `staging`.
    private var cache = RecordCache(maxBytes: 16 << 20)
    /// Bytes of records written (estimate). Guarded by `staging`.
    private var bytes = 0

    /// The cluster and member IDs stored with the data (made on first start).
    public let clusterID: UInt64
    public let memberID: UInt64
    /// Leases found at start (ID, TTL).
    public let storedLeases: [(id: Int64, ttl: Int64)]

    /// The schema this build writes; a database with another is refused.
    static let schemaVersion: Int64 = 2
    /// `PRAGMA application_id`: marks the file as Vigil's ("VIGL").
    static let applicationID: Int64 = 0x5649_474C

    /// Opens or creates `directory/vigil.db`.
    ///
    /// - Throws: ``SQLiteError`` when the file cannot be opened or created, or is not a Vigil database of this
    ///   schema (a foreign or corrupt file is refused, never overwritten).
    public init(directory: String) throws(SQLiteError) {
        let path = directory + "/vigil.db"
        self.path = path
        Self.removeSnapshotLeftovers(in: directory)
        writer = try SQLiteDatabase(path: path, create: true)
        let foreign = try Self.checkIdentity(writer)
        if foreign { throw SQLiteError(code: 26, message: "not a Vigil database", context: "opening \(path)") }
        try writer.execute("PRAGMA journal_mode=WAL")
        try writer.execute("PRAGMA synchronous=FULL")
        // Checkpoints run after the replies of a flush went out (``checkpointIfNeeded()``), not inside a commit.
        try writer.execute("PRAGMA wal_autocheckpoint=0")
        // Debian's SQLite zeroes deleted content by default, writing every page a compaction frees once more; FAST
        // zeroes only what costs no extra write (etcd's bbolt zeroes nothing). A log grown by a burst is cut back to
        // 64 MiB when it restarts after a checkpoint.
        try writer.execute("PRAGMA secure_delete=FAST")
        try writer.execute("PRAGMA journal_size_limit=\(64 << 20)")
        try writer.execute(
            """
            CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS leases (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL);
            PRAGMA application_id=\(Self.applicationID);
            """)
        let metaRead = try writer.prepare("SELECT value FROM meta WHERE name = ?")
        func meta(_ name: String) throws(SQLiteError) -> Int64? {
            metaRead.bind(1, name)
            defer { metaRead.reset() }
            return try metaRead.step() ? metaRead.int64(0) : nil
        }
        setMeta = try writer.prepare("INSERT INTO meta(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value")
        switch try meta("schema_version") {
        case nil, Self.schemaVersion:
            try writer.execute(RevisionRowID.createTable(named: "revisions"))
        case 1:
            try Self.convertSchema1(writer)
        case let version?:
            throw SQLiteError(code: 0, message: "schema version \(version), this build reads \(Self.schemaVersion)",
                context: "opening \(path)")
        }
        var generator = SystemRandomNumberGenerator()
        let cluster = try meta("cluster_id").map { UInt64(bitPattern: $0) } ?? UInt64.random(in: 1...UInt64.max, using: &generator)
        let member = try meta("member_id").map { UInt64(bitPattern: $0) } ?? UInt64.random(in: 1...UInt64.max, using: &generator)
        clusterID = cluster
        memberID = member
        try writer.execute("BEGIN IMMEDIATE")
        for (name, value) in [("schema_version", Self.schemaVersion), ("cluster_id", Int64(bitPattern: cluster)),
                              ("member_id", Int64(bitPattern: member))] {
            setMeta.bind(1, name)
            setMeta.bind(2, value)
            try setMeta.run()
        }
        try writer.execute("COMMIT")

        begin = try writer.prepare("BEGIN IMMEDIATE")
        commit = try writer.prepare("COMMIT")
        insertRecord = try writer.prepare(
            "INSERT OR REPLACE INTO revisions(id, key, value, create_revision, version, lease, tombstone) VALUES (?, ?, ?, ?, ?, ?, ?)")
        deleteRecord = try writer.prepare("DELETE FROM revisions WHERE id = ?")
        insertLease = try writer.prepare("INSERT OR REPLACE INTO leases(id, ttl) VALUES (?, ?)")
        deleteLease = try writer.prepare("DELETE FROM leases WHERE id = ?")

        let leaseRows = try writer.prepare("SELECT id, ttl FROM leases ORDER BY id")
        var leases: [(Int64, Int64)] = []
        while try leaseRows.step() { leases.append((leaseRows.int64(0), leaseRows.int64(1))) }
        storedLeases = leases

        reader = try SQLiteDatabase(path: path, create: false)
        selectRecord = try reader.prepare(
            "SELECT key, value, create_revision, version, lease, tombstone FROM revisions WHERE id = ?")
        pageFigures = try reader.prepare(
            "SELECT page_size, page_count, freelist_count FROM pragma_page_size, pragma_page_count, pragma_freelist_count")
        selectRange = try reader.prepare(
            "SELECT id, key, value, create_revision, version, lease, tombstone FROM revisions WHERE id BETWEEN ? AND ? ORDER BY id")
    }

    /// Converts a database of schema 1 to this build's (``RevisionRowID``), in place and in one transaction.
    private static func convertSchema1(_ db: SQLiteDatabase) throws(SQLiteError) {
        let check = try db.prepare(RevisionRowID.schema1Unconvertible)
        _ = try check.step()
        let unconvertible = check.int64(0)
        check.reset()
        if unconvertible > 0 {
            throw SQLiteError(code: 0, message: "\(unconvertible) changes of schema 1 cannot be converted to schema 2",
                context: "converting \(db.path)")
        }
        do {
            try db.execute(RevisionRowID.convertSchema1)
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }

    /// Whether the file is some other SQLite database (an application ID that is not Vigil's, or tables without it).
    private static func checkIdentity(_ db: SQLiteDatabase) throws(SQLiteError) -> Bool {
        let idQuery = try db.prepare("PRAGMA application_id")
        _ = try idQuery.step()
        let id = idQuery.int64(0)
        idQuery.reset()
        if id == applicationID { return false }
        if id != 0 { return true }
        let tables = try db.prepare("SELECT count(*) FROM sqlite_master")
        _ = try tables.step()
        return tables.int64(0) != 0
    }

    private static func record(_ statement: SQLiteStatement, revision: Revision, offset: Int32) -> RevisionRecord {
        let tombstone = statement.int64(offset + 5) != 0
        let kv = KeyValue(
            key: statement.bytes(offset), createRevision: statement.int64(offset + 2), modRevision: revision.main,
            version: statement.int64(offset + 3), value: statement.bytes(offset + 1), lease: statement.int64(offset + 4))
        return RevisionRecord(revision: revision, kv: kv, isTombstone: tombstone)
    }

    // MARK: MVCCBackend

    public var needsFlush: Bool { true }

    public func load(_ visit: (RevisionRecord) -> Void) throws(MVCCError) -> BackendCounters {
        do {
            // Values stay on disk: the store only rebuilds its key index at start (create revision and version
            // included, which compacted history no longer shows).
            let all = try reader.prepare(
                "SELECT id, key, tombstone, length(value), create_revision, version FROM revisions ORDER BY id")
            var size = 0
            var newest: Int64 = 1
            while try all.step() {
                let revision = RevisionRowID.revision(all.int64(0))
                let key = all.bytes(1)
                let kv = KeyValue(key: key, createRevision: all.int64(4), modRevision: revision.main, version: all.int64(5))
                let record = RevisionRecord(revision: revision, kv: kv, isTombstone: all.int64(2) != 0)
                size += key.count + Int(all.int64(3)) + 64
                newest = revision.main
                visit(record)
            }
            var compact: Int64 = -1
            let meta = try reader.prepare("SELECT value FROM meta WHERE name = 'compact_revision'")
            if try meta.step() { compact = meta.int64(0) }
            staging.withLock { bytes = size }
            return BackendCounters(currentRevision: newest, compactRevision: compact)
        } catch {
            throw .backend("\(error)")
        }
    }

    public func commit(revision: Int64, records: [RevisionRecord]) throws(MVCCError) {
        if let error = RevisionRowID.check(revision: revision, changes: records.count) { throw .backend(error) }
        staging.withLock {
            staged.append(.records(revision: revision, records))
            recent.append(revision: revision, records: records)
        }
    }

    public func record(at revision: Revision) throws(MVCCError) -> RevisionRecord? {
        if let record = staging.withLock({ recent[revision] ?? cache[revision] }) { return record }
        do {
            selectRecord.bind(1, RevisionRowID.rowID(revision))
            defer { selectRecord.reset() }
            guard try selectRecord.step() else { return nil }
            let record = Self.record(selectRecord, revision: revision, offset: 0)
            staging.withLock { cache.insert(record) }
            return record
        } catch {
            throw .backend("\(error)")
        }
    }

    public func records(mainRevisions range: ClosedRange<Int64>) throws(MVCCError) -> [RevisionRecord] {
        // Unflushed records first, SQLite after: a flush that ends in between leaves its records in both (the
        // copy here and SQLite's snapshot), never in neither.
        let unflushed = staging.withLock { recent.unflushed(in: range) }
        var found: [RevisionRecord] = []
        do {
            let rows = RevisionRowID.rowIDs(mainRevisions: range)
            selectRange.bind(1, rows.lowerBound)
            selectRange.bind(2, rows.upperBound)
            defer { selectRange.reset() }
            while try selectRange.step() {
                found.append(Self.record(selectRange, revision: RevisionRowID.revision(selectRange.int64(0)), offset: 1))
            }
        } catch {
            throw .backend("\(error)")
        }
        // SQLite holds a prefix of the revisions in order (flushes write the oldest staged first): the unflushed
        // records go after its last row, those it has already are skipped.
        if let last = found.last?.revision {
            found += unflushed.drop(while: { $0.revision <= last })
        } else {
            found = unflushed
        }
        return found
    }

    public func compact(at revision: Int64, dropping dropped: [Revision]) throws(MVCCError) {
        staging.withLock {
            staged.append(.compact(revision: revision))
            pendingDeletes += dropped
            for revision in dropped { cache.remove(revision) }
        }
    }

    public var estimatedSize: Int { staging.withLock { bytes } }

    /// The estimate becomes the bytes of the database's pages in use (what deletes and compaction freed shows
    /// there), plus what is staged and not yet written. Reads through the reader connection: the caller holds the
    /// store's lock.
    public func remeasureSize() {
        guard let inUse = storageSize?.inUse else { return }
        staging.withLock { bytes = inUse + recent.unflushedBytes }
    }

    /// `vigil.db` and its write-ahead log on disk; in use, the database's pages less its free ones. Reads through
    /// the reader connection: the caller holds the store's lock.
    public var storageSize: StorageSize? {
        func fileSize(_ path: String) -> Int {
            var status = stat()
            return stat(path, &status) == 0 ? Int(status.st_size) : 0
        }
        defer { pageFigures.reset() }
        guard (try? pageFigures.step()) == true else { return nil }
        let pageSize = Int(pageFigures.int64(0))
        let inUse = pageSize * Int(pageFigures.int64(1) - pageFigures.int64(2))
        return StorageSize(total: fileSize(path) + fileSize(path + "-wal"), inUse: inUse)
    }

    // MARK: Leases

    /// Stages a lease grant; durable with the next flush.
    public func stageLeaseGrant(id: Int64, ttl: Int64) {
        staging.withLock { staged.append(.grantLease(id: id, ttl: ttl)) }
    }

    /// Stages a lease removal; durable with the next flush.
    public func stageLeaseRevoke(id: Int64) {
        staging.withLock { staged.append(.revokeLease(id: id)) }
    }

    /// Whether anything waits for a flush.
    public var hasStagedWork: Bool { staging.withLock { !staged.isEmpty || !pendingDeletes.isEmpty } }

    /// Whether compacted rows are still to be deleted.
    public var compactionPending: Bool { staging.withLock { !pendingDeletes.isEmpty } }

    // MARK: Group commit

    public func flush() throws(MVCCError) -> Int64? {
        let (operations, deletes) = staging.withLock { () -> ([Operation], ArraySlice<Revision>) in
            let operations = staged
            staged.removeAll(keepingCapacity: true)
            let count = min(deleteBatch, pendingDeletes.count)
            let deletes = pendingDeletes.prefix(count)
            pendingDeletes.removeFirst(count)
            return (operations, deletes)
        }
        guard !operations.isEmpty || !deletes.isEmpty else { return nil }
        var newest: Int64?
        var written = 0
        do {
            // Opened ahead by ``prepareNextFlush()``, usually.
            try beginUnlessOpen()
            for operation in operations {
                switch operation {
                case .records(let revision, let records):
                    for record in records {
                        insertRecord.bind(1, RevisionRowID.rowID(record.revision))
                        insertRecord.bind(2, record.kv.key)
                        insertRecord.bind(3, record.kv.value)
                        insertRecord.bind(4, record.kv.createRevision)
                        insertRecord.bind(5, record.kv.version)
                        insertRecord.bind(6, record.kv.lease)
                        insertRecord.bind(7, record.isTombstone ? 1 : 0)
                        try insertRecord.run()
                        written += record.kv.key.count + record.kv.value.count + 64
                    }
                    newest = revision
                case .compact(let revision):
                    try setMetaValue("compact_revision", revision)
                case .grantLease(let id, let ttl):
                    insertLease.bind(1, id)
                    insertLease.bind(2, ttl)
                    try insertLease.run()
                case .revokeLease(let id):
                    deleteLease.bind(1, id)
                    try deleteLease.run()
                }
            }
            for revision in deletes {
                deleteRecord.bind(1, RevisionRowID.rowID(revision))
                try deleteRecord.run()
            }
            // The current revision needs no row of its own: it is the newest row's (compaction always keeps
            // the newest revision), which spares every flush a page write.
            try commit.run()
        } catch {
            try? writer.execute("ROLLBACK")
            // Nothing of this flush was written: its work goes back in front of whatever was staged meanwhile, so
            // the retry writes it (dropped, the retry would find nothing to write and its writes be acknowledged).
            staging.withLock {
                staged.insert(contentsOf: operations, at: 0)
                pendingDeletes.insert(contentsOf: deletes, at: 0)
            }
            if error.code == SQLiteError.full { throw .backendFull("\(error)") }
            throw .backend("\(error)")
        }
        staging.withLock {
            // A batch of compaction deletes rewrites thousands of pages: checkpoint after each, so the log holds
            // one batch rather than a whole compaction's (100,000 deleted 1 kB rows grew it to 600 MB).
            flushesSinceCheckpoint += deletes.isEmpty ? 1 : Self.flushesPerCheckpoint
            bytes += written
            recent.markFlushed(revisions: operations.count(where: { if case .records = $0 { true } else { false } }))
            bytes -= deletes.count * 64
        }
        return newest
    }

    /// Opens the next flush's write transaction now (`BEGIN IMMEDIATE`: the write lock and a snapshot of the log: four
    /// lock calls on the shared-memory index), so that the flush starts with its inserts. Harmless if it fails: the
    /// flush then begins its own. While it stays open, readers (the other connection) read as before.
    public func prepareNextFlush() {
        try? beginUnlessOpen()
    }

    /// `BEGIN IMMEDIATE` on the writer, unless a transaction is open there already.
    private func beginUnlessOpen() throws(SQLiteError) {
        if !writer.isInTransaction { try begin.run() }
    }

    /// Commits the transaction ``prepareNextFlush()`` opened, if one is open: it has written nothing, so the commit
    /// writes nothing and releases the write lock.
    public func endPreparedFlush() {
        if writer.isInTransaction { try? commit.run() }
    }

    /// Flushes since the last checkpoint. Guarded by `staging`.
    private var flushesSinceCheckpoint = 0

    /// Flushes between checkpoints.
    static let flushesPerCheckpoint = 100

    public var checkpointDue: Bool { staging.withLock { flushesSinceCheckpoint >= Self.flushesPerCheckpoint } }

    /// Copies the write-ahead log back into the database, so the log stays small. Called by the committer thread
    /// after it acknowledged a flush, so no write waits for it.
    public func checkpointIfNeeded() {
        guard checkpointDue else { return }
        staging.withLock { flushesSinceCheckpoint = 0 }
        // A checkpoint cannot run inside a transaction.
        endPreparedFlush()
        try? writer.execute("PRAGMA wal_checkpoint(PASSIVE)")
    }

    /// Rebuilds the database without its free pages (`VACUUM`), then checkpoints the write-ahead log into it and
    /// truncates the log, so the files shrink to what is in use. The rebuild goes through the log like any write:
    /// readers keep their snapshot meanwhile, and a crash halfway leaves the database as it was. It needs free disk
    /// about the size of the database; without it, nothing changes and the error says the disk is full.
    public func defragment() throws(MVCCError) {
        // Neither runs inside a transaction.
        endPreparedFlush()
        do {
            try writer.execute("VACUUM")
        } catch {
            if error.code == SQLiteError.full { throw .backendFull("\(error)") }
            throw .backend("\(error)")
        }
        staging.withLock { flushesSinceCheckpoint = 0 }
        // A reader busy meanwhile only leaves part of the log to the next checkpoint.
        try? writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    // MARK: Snapshots

    /// Snapshot files written so far by this process, for their names. Guarded by `staging`.
    private var snapshotCount = 0
    /// What a snapshot file's name starts with, after the database's own name.
    private static let snapshotSuffix = ".snapshot-"

    /// Writes a consistent copy of the database — every flushed write, none half — to a new file beside it and
    /// returns its path; the caller removes the file. `VACUUM INTO` runs on a connection of its own, reading one
    /// snapshot of the log, so flushes, reads and checkpoints go on meanwhile. Any thread. The copy is a database
    /// Vigil opens as it is (`vigil snapshot restore` puts one in place).
    public func writeSnapshot() throws(MVCCError) -> String {
        let number = staging.withLock {
            snapshotCount += 1
            return snapshotCount
        }
        let target = "\(path)\(Self.snapshotSuffix)\(getpid())-\(number)"
        unlink(target)
        do {
            let connection = try SQLiteDatabase(path: path, create: false)
            defer { connection.close() }
            try connection.execute("VACUUM INTO '\(target.replacingOccurrences(of: "'", with: "''"))'")
        } catch {
            unlink(target)
            if error.code == SQLiteError.full { throw .backendFull("\(error)") }
            throw .backend("\(error)")
        }
        return target
    }

    /// Removes snapshot files a process that ended while sending them left behind.
    private static func removeSnapshotLeftovers(in directory: String) {
        let prefix = "vigil.db" + snapshotSuffix
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix(prefix) { unlink(directory + "/" + name) }
    }

    /// Caps the database at its current size (`PRAGMA max_page_count`), or lifts the cap: writes that need another
    /// page then fail with `SQLITE_FULL`, as on a full disk. For tests.
    func limitGrowth(_ limited: Bool) throws(SQLiteError) {
        try writer.execute("PRAGMA max_page_count=\(limited ? 1 : 1_073_741_823)")
    }

    private func setMetaValue(_ name: String, _ value: Int64) throws(SQLiteError) {
        setMeta.bind(1, name)
        setMeta.bind(2, value)
        try setMeta.run()
    }
}
