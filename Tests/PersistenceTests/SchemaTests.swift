import Foundation
import MVCC
@testable import Persistence
import Testing

@Suite("SQLite schema: revision rows, conversion from schema 1")
struct SchemaTests {
    private func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "vigil-schema-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("a revision's row ID orders as the revision and gives it back")
    func rowIDs() {
        let revisions = [
            Revision(main: 1), Revision(main: 1, sub: 1), Revision(main: 1, sub: Int64(RevisionRowID.maxChanges - 1)),
            Revision(main: 2), Revision(main: 70_000, sub: 3), Revision(main: RevisionRowID.maxRevision - 1, sub: 5),
        ]
        let rows = revisions.map(RevisionRowID.rowID)
        #expect(rows == rows.sorted() && Set(rows).count == rows.count)
        #expect(rows.map(RevisionRowID.revision) == revisions)
        let span = RevisionRowID.rowIDs(mainRevisions: 1...1)
        #expect(span.contains(rows[0]) && span.contains(rows[2]) && !span.contains(rows[3]))
        #expect(RevisionRowID.rowIDs(mainRevisions: 2...70_000).contains(rows[4]))
        #expect(RevisionRowID.rowIDs(mainRevisions: 0...Int64.max).upperBound > rows[5], "an open end is clamped")
        #expect(RevisionRowID.check(revision: 5, changes: RevisionRowID.maxChanges) == nil)
        #expect(RevisionRowID.check(revision: 5, changes: RevisionRowID.maxChanges + 1) != nil)
        #expect(RevisionRowID.check(revision: RevisionRowID.maxRevision, changes: 1) != nil)
    }

    @Test("a value of about a kilobyte takes about a kilobyte on disk, not an overflow page")
    func kilobyteValues() throws {
        let backend = try SQLiteBackend(directory: temporaryDirectory())
        let store = try KVStore(backend: backend)
        let count = 500
        for i in 0..<count {
            let txn = store.beginWrite()
            try txn.put(key: Array("key\(i)".utf8), value: [UInt8](repeating: UInt8(i % 256), count: 1_000), lease: 0)
            _ = try txn.commit()
        }
        _ = try backend.flush()
        let inUse = try #require(backend.storageSize?.inUse)
        // Schema 1 took ~4.7 KiB per such row (one overflow page each); etcd's bbolt ~1.4 KiB.
        #expect(inUse < count * 1_500, "\(inUse / count) bytes per 1,000-byte value")
        #expect(try store.range(KeyRange(key: Array("key7".utf8))).kvs.first?.value.count == 1_000)
    }

    @Test("a database of schema 1 is converted at start: every change, counter, lease and ID kept")
    func convertsSchema1() throws {
        let directory = temporaryDirectory()
        do {
            let db = try SQLiteDatabase(path: directory + "/vigil.db", create: true)
            try db.execute(
                """
                PRAGMA journal_mode=WAL;
                CREATE TABLE revisions (
                    main INTEGER NOT NULL, sub INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
                    create_revision INTEGER NOT NULL, version INTEGER NOT NULL, lease INTEGER NOT NULL,
                    tombstone INTEGER NOT NULL, PRIMARY KEY (main, sub)) WITHOUT ROWID;
                CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE leases (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL);
                PRAGMA application_id=\(SQLiteBackend.applicationID);
                INSERT INTO meta VALUES ('schema_version', 1), ('cluster_id', 11), ('member_id', 12),
                    ('compact_revision', 3);
                INSERT INTO leases VALUES (77, 30);
                -- a at 2 (compacted away but kept: the newest at the compaction point), a at 4 with b in one
                -- transaction, a deleted at 5, b again at 6 with lease 77.
                INSERT INTO revisions VALUES (2, 0, x'61', x'31', 2, 1, 0, 0), (4, 0, x'61', x'32', 2, 2, 0, 0),
                    (4, 1, x'62', x'33', 4, 1, 0, 0), (5, 0, x'61', x'', 0, 0, 0, 1), (6, 0, x'62', x'34', 4, 2, 77, 0);
                """)
        }
        let backend = try SQLiteBackend(directory: directory)
        #expect((backend.clusterID, backend.memberID) == (11, 12))
        #expect(backend.storedLeases.map(\.id) == [77])
        let store = try KVStore(backend: backend)
        #expect(store.currentRevision == 6 && store.compactRevision == 3)
        let live = try store.range(KeyRange(key: [0], rangeEnd: [0])).kvs
        #expect(live.map(\.key) == [[0x62]] && live.first?.value == [0x34] && live.first?.lease == 77)
        #expect(live.first?.createRevision == 4 && live.first?.version == 2)
        var atFour = RangeOptions()
        atFour.revision = 4
        #expect(try store.range(KeyRange(key: [0], rangeEnd: [0]), options: atFour).kvs.map(\.value) == [[0x32], [0x33]])
        let history = try backend.records(mainRevisions: 2...6)
        #expect(history.map(\.revision) == [
            Revision(main: 2), Revision(main: 4), Revision(main: 4, sub: 1), Revision(main: 5), Revision(main: 6),
        ])
        #expect(history[3].isTombstone && !history[4].isTombstone)

        // Written after the conversion, read back after reopening: schema 2 throughout.
        let txn = store.beginWrite()
        try txn.put(key: [0x63], value: [0x35], lease: 0)
        _ = try txn.commit()
        _ = try backend.flush()
        let reopened = try KVStore(backend: try SQLiteBackend(directory: directory))
        #expect(reopened.currentRevision == 7)
        #expect(try reopened.range(KeyRange(key: [0], rangeEnd: [0])).kvs.map(\.key) == [[0x62], [0x63]])
        let db = try SQLiteDatabase(path: directory + "/vigil.db", create: false)
        let version = try db.prepare("SELECT value FROM meta WHERE name = 'schema_version'")
        #expect(try version.step() && version.int64(0) == SQLiteBackend.schemaVersion)
    }
}
