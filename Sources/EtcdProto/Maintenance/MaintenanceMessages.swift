/// `etcdserverpb.StatusResponse`.
public struct StatusResponse: ProtoEncodable, Equatable {
    public var header: ResponseHeader
    /// The etcd version the server reports (the API version Vigil implements).
    public var version: String
    public var dbSize: Int64
    public var leader: UInt64
    public var raftIndex: UInt64
    public var raftTerm: UInt64
    public var raftAppliedIndex: UInt64
    public var dbSizeInUse: Int64
    /// The backend quota in bytes (`--quota-backend-bytes`; etcd reports its 2 GiB default when the flag is 0).
    public var dbSizeQuota: Int64

    public init(
        header: ResponseHeader, version: String, dbSize: Int64, leader: UInt64, raftIndex: UInt64, raftTerm: UInt64,
        raftAppliedIndex: UInt64, dbSizeInUse: Int64, dbSizeQuota: Int64 = 0
    ) {
        self.header = header
        self.version = version
        self.dbSize = dbSize
        self.leader = leader
        self.raftIndex = raftIndex
        self.raftTerm = raftTerm
        self.raftAppliedIndex = raftAppliedIndex
        self.dbSizeInUse = dbSizeInUse
        self.dbSizeQuota = dbSizeQuota
    }
}

/// `etcdserverpb.AlarmRequest`.
public struct AlarmRequest: ProtoDecodable, Equatable {
    /// 0 GET, 1 ACTIVATE, 2 DEACTIVATE.
    public var action: Int32
    public var memberID: UInt64
    /// 0 NONE, 1 NOSPACE, 2 CORRUPT.
    public var alarm: Int32
    public init(action: Int32, memberID: UInt64, alarm: Int32) {
        self.action = action
        self.memberID = memberID
        self.alarm = alarm
    }
}

/// `etcdserverpb.AlarmResponse` (Vigil raises no alarms, so the list is always empty).
public struct AlarmResponse: ProtoEncodable, Equatable {
    public var header: ResponseHeader
    /// The alarms the request listed, raised or cleared.
    public var alarms: [AlarmMember]
    public init(header: ResponseHeader, alarms: [AlarmMember] = []) {
        self.header = header
        self.alarms = alarms
    }
}

/// `etcdserverpb.AlarmMember`: an alarm raised on a member.
public struct AlarmMember: Sendable, Hashable {
    /// `AlarmType` NOSPACE: the backend quota was exceeded.
    public static let noSpace: Int32 = 1

    public var memberID: UInt64
    /// 0 NONE, 1 NOSPACE, 2 CORRUPT.
    public var alarm: Int32

    public init(memberID: UInt64, alarm: Int32) {
        self.memberID = memberID
        self.alarm = alarm
    }
}

/// `etcdserverpb.DefragmentResponse`.
public struct DefragmentResponse: ProtoEncodable, Equatable {
    public var header: ResponseHeader
    public init(header: ResponseHeader) { self.header = header }
}

/// `etcdserverpb.SnapshotResponse`: one piece of a snapshot stream. As etcd, the stream's messages carry no header:
/// the database's bytes in order, each with how many remain after it, then the SHA-256 of all of them as a last
/// blob (with 0 remaining).
public struct SnapshotResponse: ProtoEncodable, Equatable {
    /// Bytes of the database still to come after this message's blob.
    public var remainingBytes: UInt64
    public var blob: [UInt8]
    public init(remainingBytes: UInt64, blob: [UInt8]) {
        self.remainingBytes = remainingBytes
        self.blob = blob
    }
}

/// `etcdserverpb.HashKVRequest`.
public struct HashKVRequest: ProtoDecodable, Equatable {
    /// The revision to hash up to; 0 for the current one.
    public var revision: Int64
    public init(revision: Int64 = 0) { self.revision = revision }
}

/// `etcdserverpb.HashKVResponse`: etcd's CRC-32C of the key-value history up to a revision, so that members (or
/// Vigil and etcd fed the same writes) can be compared.
public struct HashKVResponse: ProtoEncodable, Equatable {
    public var header: ResponseHeader
    public var hash: UInt32
    /// The compaction point when the hash was taken (-1 when never compacted, as etcd reports it).
    public var compactRevision: Int64
    /// The revision the hash covers.
    public var hashRevision: Int64
    public init(header: ResponseHeader, hash: UInt32, compactRevision: Int64, hashRevision: Int64) {
        self.header = header
        self.hash = hash
        self.compactRevision = compactRevision
        self.hashRevision = hashRevision
    }
}

/// `etcdserverpb.HashResponse`.
public struct HashResponse: ProtoEncodable, Equatable {
    public var header: ResponseHeader
    public var hash: UInt32
    public init(header: ResponseHeader, hash: UInt32) {
        self.header = header
        self.hash = hash
    }
}

/// Requests whose fields Vigil does not need: decoding only checks that the bytes are a well-formed message of
/// that type (a malformed one is answered as grpc-go answers it).
public struct StatusRequest: ProtoDecodable, Equatable { public init() {} }
public struct DefragmentRequest: ProtoDecodable, Equatable { public init() {} }
public struct LeaseLeasesRequest: ProtoDecodable, Equatable { public init() {} }
public struct AuthStatusRequest: ProtoDecodable, Equatable { public init() {} }
public struct AuthenticateRequest: ProtoDecodable, Equatable { public init() {} }
public struct MemberListRequest: ProtoDecodable, Equatable { public init() {} }
public struct MemberAddRequest: ProtoDecodable, Equatable { public init() {} }
public struct SnapshotRequest: ProtoDecodable, Equatable { public init() {} }
public struct HashRequest: ProtoDecodable, Equatable { public init() {} }

/// `MoveLeaderRequest`: the member to hand leadership to.
public struct MoveLeaderRequest: ProtoDecodable, Equatable {
    /// The member ID of the new leader.
    public var targetID: UInt64
    public init(targetID: UInt64) { self.targetID = targetID }
}

public struct MoveLeaderResponse: ProtoEncodable, Equatable {
    public var header: ResponseHeader
    public init(header: ResponseHeader) { self.header = header }
}
