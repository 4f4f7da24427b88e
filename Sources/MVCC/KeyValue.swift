/// One version of a key, as `mvccpb.KeyValue` carries it.
public struct KeyValue: Hashable, Sendable {
    /// The key, as raw bytes; never empty in a stored key.
    public var key: [UInt8]
    /// The main revision of the Put that created this incarnation of the key (0 in a DELETE event's kv).
    public var createRevision: Int64
    /// The main revision of the last change to the key.
    public var modRevision: Int64
    /// Changes since creation: 1 after the creating Put, +1 per Put; 0 in a DELETE event's kv.
    public var version: Int64
    /// The value.
    public var value: [UInt8]
    /// The lease the key is attached to; 0 for none.
    public var lease: Int64

    public init(
        key: [UInt8], createRevision: Int64 = 0, modRevision: Int64 = 0, version: Int64 = 0, value: [UInt8] = [],
        lease: Int64 = 0
    ) {
        self.key = key
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.value = value
        self.lease = lease
    }
}
