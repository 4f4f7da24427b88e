/// One row of the revision log: a change to one key at one revision.
///
/// The shape every backend stores (in memory, SQLite, PostgreSQL): revision, sub-revision, key, value, create
/// revision, version, lease, tombstone.
public struct RevisionRecord: Hashable, Sendable {
    /// Where the change sits in history.
    public var revision: Revision
    /// For a Put, the key's new version; for a tombstone, the key with `modRevision` set and everything else zero.
    public var kv: KeyValue
    /// Whether this change deleted the key.
    public var isTombstone: Bool

    public init(revision: Revision, kv: KeyValue, isTombstone: Bool) {
        self.revision = revision
        self.kv = kv
        self.isTombstone = isTombstone
    }
}
