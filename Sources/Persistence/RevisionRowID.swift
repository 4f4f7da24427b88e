import MVCC

/// How a change's revision keys its row in the `revisions` table: main and sub revision packed into SQLite's
/// 64-bit rowid, `main << 24 | sub`, so that rowid order is revision order and the row lives in a rowid table.
///
/// A rowid table keeps a row of up to ~4 KiB (on 4 KiB pages) in its leaf; the `WITHOUT ROWID` table of schema 1,
/// keyed by `(main, sub)`, is stored as an index b-tree, which moves every row over ~1 KiB into overflow pages, a
/// page at least per row: a 1,000-byte value took 4.7 KiB there (etcd: 1.4 KiB), so a store hit
/// `--quota-backend-bytes` with a third of etcd's data.
///
/// The packing bounds both parts: a main revision below 2^39 (at 100,000 writes a second, 170 years of writes) and
/// fewer than 2^24 (16,777,216) changes in one revision, which a write beyond is refused with.
enum RevisionRowID {
    /// Bits of the rowid that hold the sub revision.
    static let subBits = 24
    /// Sub revisions of one main revision are below this.
    static let maxChanges = 1 << subBits
    /// Main revisions are below this.
    static let maxRevision: Int64 = 1 << (63 - subBits)

    /// The row of the change at `revision`.
    static func rowID(_ revision: Revision) -> Int64 {
        revision.main << subBits | revision.sub
    }

    /// The revision whose row is `rowID`.
    static func revision(_ rowID: Int64) -> Revision {
        Revision(main: rowID >> subBits, sub: rowID & Int64(maxChanges - 1))
    }

    /// The rows of every change whose main revision is in `range`.
    static func rowIDs(mainRevisions range: ClosedRange<Int64>) -> ClosedRange<Int64> {
        let upper = min(range.upperBound, maxRevision - 1)
        let lower = max(0, min(range.lowerBound, upper))
        return rowID(Revision(main: lower)) ... rowID(Revision(main: upper, sub: Int64(maxChanges - 1)))
    }

    /// Why a write of `changes` changes at main revision `revision` cannot be stored, or nil when it can.
    static func check(revision: Int64, changes: Int) -> String? {
        if changes > maxChanges {
            return "a write of \(changes) changes exceeds the \(maxChanges) one revision can hold"
        }
        if revision >= maxRevision { return "revision \(revision) exceeds the largest the data directory can hold" }
        return nil
    }

    /// The `revisions` table of schema 2 (`main` and `sub` are computed from the rowid, and take no space).
    static func createTable(named name: String) -> String {
        """
        CREATE TABLE IF NOT EXISTS \(name) (
            id INTEGER PRIMARY KEY, key BLOB NOT NULL, value BLOB NOT NULL, create_revision INTEGER NOT NULL,
            version INTEGER NOT NULL, lease INTEGER NOT NULL, tombstone INTEGER NOT NULL,
            main INTEGER GENERATED ALWAYS AS (id >> \(subBits)) VIRTUAL,
            sub INTEGER GENERATED ALWAYS AS (id & \(maxChanges - 1)) VIRTUAL)
        """
    }

    /// Whether a schema 1 database holds a change the packing cannot (never, short of 16,777,216 changes in one
    /// revision).
    static let schema1Unconvertible = "SELECT count(*) FROM revisions WHERE sub >= \(maxChanges) OR main >= \(maxRevision)"

    /// Converts a schema 1 database (its `revisions` table keyed `(main, sub)`, `WITHOUT ROWID`) to schema 2, in
    /// one transaction: a crash during it leaves schema 1 as it was.
    static let convertSchema1 = """
        BEGIN IMMEDIATE;
        \(createTable(named: "revisions_schema2"));
        INSERT INTO revisions_schema2(id, key, value, create_revision, version, lease, tombstone)
            SELECT main << \(subBits) | sub, key, value, create_revision, version, lease, tombstone
            FROM revisions ORDER BY main, sub;
        DROP TABLE revisions;
        ALTER TABLE revisions_schema2 RENAME TO revisions;
        INSERT INTO meta(name, value) VALUES ('schema_version', 2)
            ON CONFLICT(name) DO UPDATE SET value = excluded.value;
        COMMIT;
        """
}
