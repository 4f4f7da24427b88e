/// `etcdserverpb.WatchRequest`: one message on a Watch stream.
public enum WatchRequest: ProtoMessage {
    case create(WatchCreateRequest)
    case cancel(watchID: Int64)
    case progress
    /// No oneof member set (or one this server does not know): etcd ignores it.
    case empty
}

/// `etcdserverpb.WatchCreateRequest`.
public struct WatchCreateRequest: Sendable, Equatable {
    /// `WatchCreateRequest.FilterType`.
    public enum Filter: Int32, Sendable {
        case noPut = 0
        case noDelete = 1
    }

    public var key: [UInt8] = []
    public var rangeEnd: [UInt8] = []
    public var startRevision: Int64 = 0
    public var progressNotify = false
    /// Filters; values outside the enum are dropped on decode (etcd ignores them too).
    public var filters: [Filter] = []
    public var prevKV = false
    /// 0 asks the server to pick an ID.
    public var watchID: Int64 = 0
    public var fragment = false

    public init(key: [UInt8] = [], rangeEnd: [UInt8] = [], startRevision: Int64 = 0) {
        self.key = key
        self.rangeEnd = rangeEnd
        self.startRevision = startRevision
    }
}
