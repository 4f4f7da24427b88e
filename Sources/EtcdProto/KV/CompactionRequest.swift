/// `etcdserverpb.CompactionRequest`.
public struct CompactionRequest: ProtoMessage {
    public var revision: Int64 = 0
    /// Whether to answer only once the compaction is physically applied.
    public var physical = false

    public init(revision: Int64 = 0, physical: Bool = false) {
        self.revision = revision
        self.physical = physical
    }
}

/// `etcdserverpb.CompactionResponse`.
public struct CompactionResponse: ProtoMessage {
    public var header: ResponseHeader?

    public init(header: ResponseHeader? = nil) {
        self.header = header
    }
}
