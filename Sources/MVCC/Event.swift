/// One change in the store, as a watcher sees it (`mvccpb.Event`).
public struct Event: Hashable, Sendable {
    /// Whether the key was written or deleted.
    public enum Kind: Int32, Sendable {
        case put = 0
        case delete = 1
    }

    public var kind: Kind
    /// For a PUT, the key's new version; for a DELETE, only `key` and `modRevision` (the delete's revision) are set.
    public var kv: KeyValue
    /// The key's previous version, when one exists and was asked for.
    public var prevKV: KeyValue?

    public init(kind: Kind, kv: KeyValue, prevKV: KeyValue? = nil) {
        self.kind = kind
        self.kv = kv
        self.prevKV = prevKV
    }
}
