/// `etcdserverpb.PutRequest`.
public struct PutRequest: ProtoMessage {
    public var key: [UInt8] = []
    public var value: [UInt8] = []
    public var lease: Int64 = 0
    public var prevKV = false
    public var ignoreValue = false
    public var ignoreLease = false

    public init(key: [UInt8] = [], value: [UInt8] = [], lease: Int64 = 0) {
        self.key = key
        self.value = value
        self.lease = lease
    }
}

/// `etcdserverpb.PutResponse`.
public struct PutResponse: ProtoMessage {
    public var header: ResponseHeader?
    /// The key's previous version, when asked for and when it existed.
    public var prevKV: Mvccpb.KeyValue?

    public init(header: ResponseHeader? = nil, prevKV: Mvccpb.KeyValue? = nil) {
        self.header = header
        self.prevKV = prevKV
    }
}
