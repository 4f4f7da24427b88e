/// `etcdserverpb.Member`.
public struct Member: Sendable, Equatable {
    public var id: UInt64
    public var name: String
    public var peerURLs: [String]
    public var clientURLs: [String]
    public var isLearner: Bool

    public init(id: UInt64, name: String, peerURLs: [String], clientURLs: [String], isLearner: Bool = false) {
        self.id = id
        self.name = name
        self.peerURLs = peerURLs
        self.clientURLs = clientURLs
        self.isLearner = isLearner
    }
}

/// `etcdserverpb.MemberListResponse` (and the member list of the other member responses).
public struct MemberListResponse: ProtoEncodable, Equatable {
    public var header: ResponseHeader
    public var members: [Member]
    public init(header: ResponseHeader, members: [Member]) {
        self.header = header
        self.members = members
    }
}

/// `etcdserverpb.MemberRemoveRequest`.
public struct MemberRemoveRequest: ProtoDecodable, Equatable {
    public var id: UInt64
    public init(id: UInt64) { self.id = id }
}

/// `etcdserverpb.MemberUpdateRequest` (the peer URLs are not needed: a single member cannot change them).
public struct MemberUpdateRequest: ProtoDecodable, Equatable {
    public var id: UInt64
    public init(id: UInt64) { self.id = id }
}

/// `etcdserverpb.MemberPromoteRequest`.
public struct MemberPromoteRequest: ProtoDecodable, Equatable {
    public var id: UInt64
    public init(id: UInt64) { self.id = id }
}
