/// `etcdserverpb.LeaseGrantRequest`.
public struct LeaseGrantRequest: ProtoDecodable, Equatable {
    public var ttl: Int64
    /// 0 asks the server to pick the ID.
    public var id: Int64
    public init(ttl: Int64, id: Int64 = 0) {
        self.ttl = ttl
        self.id = id
    }
}

/// `etcdserverpb.LeaseGrantResponse`.
public struct LeaseGrantResponse: ProtoEncodable, Equatable {
    public var header: ResponseHeader
    public var id: Int64
    public var ttl: Int64
    public var error: String = ""
    public init(header: ResponseHeader, id: Int64, ttl: Int64) {
        self.header = header
        self.id = id
        self.ttl = ttl
    }
}

/// `etcdserverpb.LeaseRevokeRequest`.
public struct LeaseRevokeRequest: ProtoDecodable, Equatable {
    public var id: Int64
    public init(id: Int64) { self.id = id }
}

/// `etcdserverpb.LeaseKeepAliveRequest`.
public struct LeaseKeepAliveRequest: ProtoDecodable, Equatable {
    public var id: Int64
    public init(id: Int64) { self.id = id }
}

/// `etcdserverpb.LeaseRevokeResponse`.
public struct LeaseRevokeResponse: ProtoEncodable, Equatable {
    public var header: ResponseHeader
    public init(header: ResponseHeader) { self.header = header }
}

/// `etcdserverpb.LeaseKeepAliveResponse`.
public struct LeaseKeepAliveResponse: ProtoEncodable, Equatable {
    public var header: ResponseHeader
    public var id: Int64
    /// The TTL the lease was renewed for; 0 when no such lease exists.
    public var ttl: Int64
    public init(header: ResponseHeader, id: Int64, ttl: Int64) {
        self.header = header
        self.id = id
        self.ttl = ttl
    }
}

/// `etcdserverpb.LeaseTimeToLiveRequest`.
public struct LeaseTimeToLiveRequest: ProtoDecodable, Equatable {
    public var id: Int64
    /// Whether to list the attached keys.
    public var keys: Bool
    public init(id: Int64, keys: Bool = false) {
        self.id = id
        self.keys = keys
    }
}

/// `etcdserverpb.LeaseTimeToLiveResponse`.
public struct LeaseTimeToLiveResponse: ProtoEncodable, Equatable {
    public var header: ResponseHeader
    public var id: Int64
    /// Remaining seconds; -1 when the lease does not exist.
    public var ttl: Int64
    public var grantedTTL: Int64
    public var keys: [[UInt8]]
    public init(header: ResponseHeader, id: Int64, ttl: Int64, grantedTTL: Int64, keys: [[UInt8]]) {
        self.header = header
        self.id = id
        self.ttl = ttl
        self.grantedTTL = grantedTTL
        self.keys = keys
    }
}

/// `etcdserverpb.LeaseLeasesResponse`.
public struct LeaseLeasesResponse: ProtoEncodable, Equatable {
    public var header: ResponseHeader
    public var ids: [Int64]
    public init(header: ResponseHeader, ids: [Int64]) {
        self.header = header
        self.ids = ids
    }
}
