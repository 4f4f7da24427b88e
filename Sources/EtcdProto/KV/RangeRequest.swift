/// `etcdserverpb.RangeRequest`.
public struct RangeRequest: ProtoMessage {
    /// `RangeRequest.SortOrder`; unknown wire values are kept so the service can refuse them as etcd does.
    public struct SortOrder: RawRepresentable, Sendable, Equatable {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let none = SortOrder(rawValue: 0)
        public static let ascend = SortOrder(rawValue: 1)
        public static let descend = SortOrder(rawValue: 2)
    }

    /// `RangeRequest.SortTarget`; unknown wire values are kept so the service can refuse them as etcd does.
    public struct SortTarget: RawRepresentable, Sendable, Equatable {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let key = SortTarget(rawValue: 0)
        public static let version = SortTarget(rawValue: 1)
        public static let create = SortTarget(rawValue: 2)
        public static let mod = SortTarget(rawValue: 3)
        public static let value = SortTarget(rawValue: 4)
    }

    public var key: [UInt8] = []
    public var rangeEnd: [UInt8] = []
    public var limit: Int64 = 0
    public var revision: Int64 = 0
    public var sortOrder: SortOrder = .none
    public var sortTarget: SortTarget = .key
    public var serializable = false
    public var keysOnly = false
    public var countOnly = false
    public var minModRevision: Int64 = 0
    public var maxModRevision: Int64 = 0
    public var minCreateRevision: Int64 = 0
    public var maxCreateRevision: Int64 = 0

    public init() {}
}

/// `etcdserverpb.RangeResponse`.
public struct RangeResponse: ProtoMessage {
    public var header: ResponseHeader?
    public var kvs: [Mvccpb.KeyValue] = []
    public var more = false
    public var count: Int64 = 0

    public init(header: ResponseHeader? = nil, kvs: [Mvccpb.KeyValue] = [], more: Bool = false, count: Int64 = 0) {
        self.header = header
        self.kvs = kvs
        self.more = more
        self.count = count
    }
}
