/// `etcdserverpb.DeleteRangeRequest`.
public struct DeleteRangeRequest: ProtoMessage {
    public var key: [UInt8] = []
    public var rangeEnd: [UInt8] = []
    public var prevKV = false

    public init(key: [UInt8] = [], rangeEnd: [UInt8] = [], prevKV: Bool = false) {
        self.key = key
        self.rangeEnd = rangeEnd
        self.prevKV = prevKV
    }
}

/// `etcdserverpb.DeleteRangeResponse`.
public struct DeleteRangeResponse: ProtoMessage {
    public var header: ResponseHeader?
    public var deleted: Int64 = 0
    public var prevKVs: [Mvccpb.KeyValue] = []

    public init(header: ResponseHeader? = nil, deleted: Int64 = 0, prevKVs: [Mvccpb.KeyValue] = []) {
        self.header = header
        self.deleted = deleted
        self.prevKVs = prevKVs
    }
}
