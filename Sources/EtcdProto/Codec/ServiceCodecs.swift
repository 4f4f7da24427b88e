internal import CEtcdProto

// protobuf-c conversions for the Lease, Maintenance, Cluster and Auth messages Vigil serves.

extension CArena {
    /// A NUL-terminated copy of `text`.
    func string(_ text: String) -> UnsafeMutablePointer<CChar> {
        let utf8 = Array(text.utf8)
        let pointer = allocate(CChar.self, count: utf8.count + 1)
        for (index, byte) in utf8.enumerated() { pointer[index] = CChar(bitPattern: byte) }
        pointer[utf8.count] = 0
        return pointer
    }

    /// A C array of strings (a repeated string field).
    func strings(_ texts: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        guard !texts.isEmpty else { return nil }
        let array = allocate(UnsafeMutablePointer<CChar>?.self, count: texts.count)
        for (index, text) in texts.enumerated() { array[index] = string(text) }
        return array
    }

    /// A full header (these responses always carry one).
    func header(_ header: ResponseHeader) -> UnsafeMutablePointer<Etcdserverpb__ResponseHeader> {
        self.header(Optional(header))!
    }
}

// MARK: Lease

extension LeaseGrantRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.LeaseGrantRequest", unpack: etcdserverpb__lease_grant_request__unpack,
            free: etcdserverpb__lease_grant_request__free_unpacked, convert: { LeaseGrantRequest(ttl: $0.ttl, id: $0.id) })
    }
}

extension LeaseRevokeRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.LeaseRevokeRequest", unpack: etcdserverpb__lease_revoke_request__unpack,
            free: etcdserverpb__lease_revoke_request__free_unpacked, convert: { LeaseRevokeRequest(id: $0.id) })
    }
}

extension LeaseKeepAliveRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.LeaseKeepAliveRequest", unpack: etcdserverpb__lease_keep_alive_request__unpack,
            free: etcdserverpb__lease_keep_alive_request__free_unpacked, convert: { LeaseKeepAliveRequest(id: $0.id) })
    }
}

extension LeaseTimeToLiveRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.LeaseTimeToLiveRequest",
            unpack: etcdserverpb__lease_time_to_live_request__unpack,
            free: etcdserverpb__lease_time_to_live_request__free_unpacked,
            convert: { LeaseTimeToLiveRequest(id: $0.id, keys: $0.keys != 0) })
    }
}

extension LeaseGrantResponse {
    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        let c = arena.message(etcdserverpb__lease_grant_response__init) { (c: inout Etcdserverpb__LeaseGrantResponse) in
            c.header = arena.header(header)
            c.id = id
            c.ttl = ttl
            c.error = arena.string(error)
        }
        return pack(c, size: etcdserverpb__lease_grant_response__get_packed_size, pack: etcdserverpb__lease_grant_response__pack)
    }
}

extension LeaseRevokeResponse {
    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        let c = arena.message(etcdserverpb__lease_revoke_response__init) { (c: inout Etcdserverpb__LeaseRevokeResponse) in
            c.header = arena.header(header)
        }
        return pack(c, size: etcdserverpb__lease_revoke_response__get_packed_size, pack: etcdserverpb__lease_revoke_response__pack)
    }
}

extension LeaseKeepAliveResponse {
    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        let c = arena.message(etcdserverpb__lease_keep_alive_response__init) {
            (c: inout Etcdserverpb__LeaseKeepAliveResponse) in
            c.header = arena.header(header)
            c.id = id
            c.ttl = ttl
        }
        return pack(
            c, size: etcdserverpb__lease_keep_alive_response__get_packed_size,
            pack: etcdserverpb__lease_keep_alive_response__pack)
    }
}

extension LeaseTimeToLiveResponse {
    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        let c = arena.message(etcdserverpb__lease_time_to_live_response__init) {
            (c: inout Etcdserverpb__LeaseTimeToLiveResponse) in
            c.header = arena.header(header)
            c.id = id
            c.ttl = ttl
            c.grantedttl = grantedTTL
            if !keys.isEmpty {
                let array = arena.allocate(ProtobufCBinaryData.self, count: keys.count)
                for (index, key) in keys.enumerated() { array[index] = arena.bytes(key) }
                c.n_keys = keys.count
                c.keys = array
            }
        }
        return pack(
            c, size: etcdserverpb__lease_time_to_live_response__get_packed_size,
            pack: etcdserverpb__lease_time_to_live_response__pack)
    }
}

extension LeaseLeasesResponse {
    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        let c = arena.message(etcdserverpb__lease_leases_response__init) { (c: inout Etcdserverpb__LeaseLeasesResponse) in
            c.header = arena.header(header)
            c.n_leases = ids.count
            c.leases = arena.pointerArray(ids.map { id in
                arena.message(etcdserverpb__lease_status__init) { (s: inout Etcdserverpb__LeaseStatus) in s.id = id }
            })
        }
        return pack(c, size: etcdserverpb__lease_leases_response__get_packed_size, pack: etcdserverpb__lease_leases_response__pack)
    }
}

extension LeaseLeasesRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.LeaseLeasesRequest", unpack: etcdserverpb__lease_leases_request__unpack,
            free: etcdserverpb__lease_leases_request__free_unpacked, convert: { _ in LeaseLeasesRequest() })
    }
}

// MARK: Maintenance

extension StatusRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.StatusRequest", unpack: etcdserverpb__status_request__unpack,
            free: etcdserverpb__status_request__free_unpacked, convert: { _ in StatusRequest() })
    }
}

extension DefragmentRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.DefragmentRequest", unpack: etcdserverpb__defragment_request__unpack,
            free: etcdserverpb__defragment_request__free_unpacked, convert: { _ in DefragmentRequest() })
    }
}

extension HashKVRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.HashKVRequest", unpack: etcdserverpb__hash_kvrequest__unpack,
            free: etcdserverpb__hash_kvrequest__free_unpacked, convert: { HashKVRequest(revision: $0.revision) })
    }
}

extension MoveLeaderRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.MoveLeaderRequest", unpack: etcdserverpb__move_leader_request__unpack,
            free: etcdserverpb__move_leader_request__free_unpacked, convert: { MoveLeaderRequest(targetID: $0.targetid) })
    }
}

extension SnapshotRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.SnapshotRequest", unpack: etcdserverpb__snapshot_request__unpack,
            free: etcdserverpb__snapshot_request__free_unpacked, convert: { _ in SnapshotRequest() })
    }
}

extension HashRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.HashRequest", unpack: etcdserverpb__hash_request__unpack,
            free: etcdserverpb__hash_request__free_unpacked, convert: { _ in HashRequest() })
    }
}

extension AlarmRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.AlarmRequest", unpack: etcdserverpb__alarm_request__unpack,
            free: etcdserverpb__alarm_request__free_unpacked,
            convert: {
                AlarmRequest(
                    action: Int32(bitPattern: $0.action.rawValue), memberID: $0.memberid,
                    alarm: Int32(bitPattern: $0.alarm.rawValue))
            })
    }
}

extension StatusResponse {
    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        let c = arena.message(etcdserverpb__status_response__init) { (c: inout Etcdserverpb__StatusResponse) in
            c.header = arena.header(header)
            c.version = arena.string(version)
            c.dbsize = dbSize
            c.leader = leader
            c.raftindex = raftIndex
            c.raftterm = raftTerm
            c.raftappliedindex = raftAppliedIndex
            c.dbsizeinuse = dbSizeInUse
            c.dbsizequota = dbSizeQuota
        }
        return pack(c, size: etcdserverpb__status_response__get_packed_size, pack: etcdserverpb__status_response__pack)
    }
}

extension AlarmResponse {
    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        let c = arena.message(etcdserverpb__alarm_response__init) { (c: inout Etcdserverpb__AlarmResponse) in
            c.header = arena.header(header)
            c.n_alarms = alarms.count
            c.alarms = arena.pointerArray(alarms.map { alarm in
                arena.message(etcdserverpb__alarm_member__init) { (m: inout Etcdserverpb__AlarmMember) in
                    m.memberid = alarm.memberID
                    m.alarm = Etcdserverpb__AlarmType(rawValue: UInt32(bitPattern: alarm.alarm))
                }
            })
        }
        return pack(c, size: etcdserverpb__alarm_response__get_packed_size, pack: etcdserverpb__alarm_response__pack)
    }
}

extension SnapshotResponse {
    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        let c = arena.message(etcdserverpb__snapshot_response__init) { (c: inout Etcdserverpb__SnapshotResponse) in
            c.remaining_bytes = remainingBytes
            c.blob = arena.bytes(blob)
        }
        return pack(c, size: etcdserverpb__snapshot_response__get_packed_size, pack: etcdserverpb__snapshot_response__pack)
    }
}

extension HashKVResponse {
    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        let c = arena.message(etcdserverpb__hash_kvresponse__init) { (c: inout Etcdserverpb__HashKVResponse) in
            c.header = arena.header(header)
            c.hash = hash
            c.compact_revision = compactRevision
            c.hash_revision = hashRevision
        }
        return pack(c, size: etcdserverpb__hash_kvresponse__get_packed_size, pack: etcdserverpb__hash_kvresponse__pack)
    }
}

extension HashResponse {
    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        let c = arena.message(etcdserverpb__hash_response__init) { (c: inout Etcdserverpb__HashResponse) in
            c.header = arena.header(header)
            c.hash = hash
        }
        return pack(c, size: etcdserverpb__hash_response__get_packed_size, pack: etcdserverpb__hash_response__pack)
    }
}

extension DefragmentResponse {
    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        let c = arena.message(etcdserverpb__defragment_response__init) { (c: inout Etcdserverpb__DefragmentResponse) in
            c.header = arena.header(header)
        }
        return pack(c, size: etcdserverpb__defragment_response__get_packed_size, pack: etcdserverpb__defragment_response__pack)
    }
}

extension MoveLeaderResponse {
    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        let c = arena.message(etcdserverpb__move_leader_response__init) { (c: inout Etcdserverpb__MoveLeaderResponse) in
            c.header = arena.header(header)
        }
        return pack(c, size: etcdserverpb__move_leader_response__get_packed_size, pack: etcdserverpb__move_leader_response__pack)
    }
}

// MARK: Cluster

extension MemberListRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.MemberListRequest", unpack: etcdserverpb__member_list_request__unpack,
            free: etcdserverpb__member_list_request__free_unpacked, convert: { _ in MemberListRequest() })
    }
}

extension MemberAddRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.MemberAddRequest", unpack: etcdserverpb__member_add_request__unpack,
            free: etcdserverpb__member_add_request__free_unpacked, convert: { _ in MemberAddRequest() })
    }
}

extension MemberRemoveRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.MemberRemoveRequest", unpack: etcdserverpb__member_remove_request__unpack,
            free: etcdserverpb__member_remove_request__free_unpacked, convert: { MemberRemoveRequest(id: $0.id) })
    }
}

extension MemberUpdateRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.MemberUpdateRequest", unpack: etcdserverpb__member_update_request__unpack,
            free: etcdserverpb__member_update_request__free_unpacked, convert: { MemberUpdateRequest(id: $0.id) })
    }
}

extension MemberPromoteRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.MemberPromoteRequest", unpack: etcdserverpb__member_promote_request__unpack,
            free: etcdserverpb__member_promote_request__free_unpacked, convert: { MemberPromoteRequest(id: $0.id) })
    }
}

extension MemberListResponse {
    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        let c = arena.message(etcdserverpb__member_list_response__init) { (c: inout Etcdserverpb__MemberListResponse) in
            c.header = arena.header(header)
            c.n_members = members.count
            c.members = arena.pointerArray(members.map { member in
                arena.message(etcdserverpb__member__init) { (m: inout Etcdserverpb__Member) in
                    m.id = member.id
                    m.name = arena.string(member.name)
                    m.n_peerurls = member.peerURLs.count
                    m.peerurls = arena.strings(member.peerURLs)
                    m.n_clienturls = member.clientURLs.count
                    m.clienturls = arena.strings(member.clientURLs)
                    m.islearner = member.isLearner.protobufC
                }
            })
        }
        return pack(c, size: etcdserverpb__member_list_response__get_packed_size, pack: etcdserverpb__member_list_response__pack)
    }
}

// MARK: Auth

extension AuthStatusRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.AuthStatusRequest", unpack: etcdserverpb__auth_status_request__unpack,
            free: etcdserverpb__auth_status_request__free_unpacked, convert: { _ in AuthStatusRequest() })
    }
}

extension AuthenticateRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.AuthenticateRequest", unpack: etcdserverpb__authenticate_request__unpack,
            free: etcdserverpb__authenticate_request__free_unpacked, convert: { _ in AuthenticateRequest() })
    }
}

extension AuthStatusResponse {
    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        let c = arena.message(etcdserverpb__auth_status_response__init) { (c: inout Etcdserverpb__AuthStatusResponse) in
            c.header = arena.header(header)
            c.enabled = enabled.protobufC
            c.authrevision = authRevision
        }
        return pack(c, size: etcdserverpb__auth_status_response__get_packed_size, pack: etcdserverpb__auth_status_response__pack)
    }
}
