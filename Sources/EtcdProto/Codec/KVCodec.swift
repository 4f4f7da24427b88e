internal import CEtcdProto

// protobuf-c conversions for the KV service's messages (etcdserverpb) and mvccpb.KeyValue.
// Decoding copies everything out of the unpacked C structs; encoding builds C structs in a CArena.

// MARK: Shared pieces

extension Mvccpb.KeyValue {
    init(c: Mvccpb__KeyValue) {
        self.init(
            key: [UInt8](protobufC: c.key), createRevision: c.create_revision, modRevision: c.mod_revision,
            version: c.version, value: [UInt8](protobufC: c.value), lease: c.lease)
    }
}

extension Mvccpb.KeyValue: ProtoEncodable {
    /// The message alone, as etcd stores it in its backend (what `HashKV` hashes).
    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        return pack(arena.keyValue(self), size: mvccpb__key_value__get_packed_size, pack: mvccpb__key_value__pack)
    }
}

extension ResponseHeader {
    init(c: Etcdserverpb__ResponseHeader) {
        self.init(clusterID: c.cluster_id, memberID: c.member_id, revision: c.revision, raftTerm: c.raft_term)
    }
}

extension CArena {
    func keyValue(_ kv: Mvccpb.KeyValue) -> UnsafeMutablePointer<Mvccpb__KeyValue> {
        message(mvccpb__key_value__init) { c in
            c.key = bytes(kv.key)
            c.create_revision = kv.createRevision
            c.mod_revision = kv.modRevision
            c.version = kv.version
            c.value = bytes(kv.value)
            c.lease = kv.lease
        }
    }

    func header(_ header: ResponseHeader?) -> UnsafeMutablePointer<Etcdserverpb__ResponseHeader>? {
        guard let header else { return nil }
        return message(etcdserverpb__response_header__init) { c in
            c.cluster_id = header.clusterID
            c.member_id = header.memberID
            c.revision = header.revision
            c.raft_term = header.raftTerm
        }
    }

    func keyValues(_ kvs: [Mvccpb.KeyValue]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<Mvccpb__KeyValue>?>?) {
        (kvs.count, pointerArray(kvs.map { keyValue($0) }))
    }
}

// MARK: Range

extension RangeRequest {
    init(c: Etcdserverpb__RangeRequest) {
        self.init()
        key = [UInt8](protobufC: c.key)
        rangeEnd = [UInt8](protobufC: c.range_end)
        limit = c.limit
        revision = c.revision
        sortOrder = SortOrder(rawValue: Int32(bitPattern: c.sort_order.rawValue))
        sortTarget = SortTarget(rawValue: Int32(bitPattern: c.sort_target.rawValue))
        serializable = c.serializable != 0
        keysOnly = c.keys_only != 0
        countOnly = c.count_only != 0
        minModRevision = c.min_mod_revision
        maxModRevision = c.max_mod_revision
        minCreateRevision = c.min_create_revision
        maxCreateRevision = c.max_create_revision
    }

    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.RangeRequest", unpack: etcdserverpb__range_request__unpack,
            free: etcdserverpb__range_request__free_unpacked, convert: RangeRequest.init(c:))
    }

    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        return pack(
            arena.rangeRequest(self), size: etcdserverpb__range_request__get_packed_size,
            pack: etcdserverpb__range_request__pack)
    }
}

extension CArena {
    func rangeRequest(_ request: RangeRequest) -> UnsafeMutablePointer<Etcdserverpb__RangeRequest> {
        message(etcdserverpb__range_request__init) { c in
            c.key = bytes(request.key)
            c.range_end = bytes(request.rangeEnd)
            c.limit = request.limit
            c.revision = request.revision
            c.sort_order = .init(rawValue: UInt32(bitPattern: request.sortOrder.rawValue))
            c.sort_target = .init(rawValue: UInt32(bitPattern: request.sortTarget.rawValue))
            c.serializable = request.serializable.protobufC
            c.keys_only = request.keysOnly.protobufC
            c.count_only = request.countOnly.protobufC
            c.min_mod_revision = request.minModRevision
            c.max_mod_revision = request.maxModRevision
            c.min_create_revision = request.minCreateRevision
            c.max_create_revision = request.maxCreateRevision
        }
    }

    func rangeResponse(_ response: RangeResponse) -> UnsafeMutablePointer<Etcdserverpb__RangeResponse> {
        message(etcdserverpb__range_response__init) { c in
            c.header = header(response.header)
            (c.n_kvs, c.kvs) = keyValues(response.kvs)
            c.more = response.more.protobufC
            c.count = response.count
        }
    }
}

extension RangeResponse {
    init(c: Etcdserverpb__RangeResponse) {
        self.init(
            header: c.header.map { ResponseHeader(c: $0.pointee) }, kvs: repeated(c.n_kvs, c.kvs, Mvccpb.KeyValue.init(c:)),
            more: c.more != 0, count: c.count)
    }

    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.RangeResponse", unpack: etcdserverpb__range_response__unpack,
            free: etcdserverpb__range_response__free_unpacked, convert: RangeResponse.init(c:))
    }

    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        return pack(
            arena.rangeResponse(self), size: etcdserverpb__range_response__get_packed_size,
            pack: etcdserverpb__range_response__pack)
    }
}

// MARK: Put

extension PutRequest {
    init(c: Etcdserverpb__PutRequest) {
        self.init(key: [UInt8](protobufC: c.key), value: [UInt8](protobufC: c.value), lease: c.lease)
        prevKV = c.prev_kv != 0
        ignoreValue = c.ignore_value != 0
        ignoreLease = c.ignore_lease != 0
    }

    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.PutRequest", unpack: etcdserverpb__put_request__unpack,
            free: etcdserverpb__put_request__free_unpacked, convert: PutRequest.init(c:))
    }

    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        return pack(
            arena.putRequest(self), size: etcdserverpb__put_request__get_packed_size,
            pack: etcdserverpb__put_request__pack)
    }
}

extension PutResponse {
    init(c: Etcdserverpb__PutResponse) {
        self.init(header: c.header.map { ResponseHeader(c: $0.pointee) }, prevKV: c.prev_kv.map { Mvccpb.KeyValue(c: $0.pointee) })
    }

    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.PutResponse", unpack: etcdserverpb__put_response__unpack,
            free: etcdserverpb__put_response__free_unpacked, convert: PutResponse.init(c:))
    }

    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        return pack(
            arena.putResponse(self), size: etcdserverpb__put_response__get_packed_size,
            pack: etcdserverpb__put_response__pack)
    }
}

extension CArena {
    func putRequest(_ request: PutRequest) -> UnsafeMutablePointer<Etcdserverpb__PutRequest> {
        message(etcdserverpb__put_request__init) { c in
            c.key = bytes(request.key)
            c.value = bytes(request.value)
            c.lease = request.lease
            c.prev_kv = request.prevKV.protobufC
            c.ignore_value = request.ignoreValue.protobufC
            c.ignore_lease = request.ignoreLease.protobufC
        }
    }

    func putResponse(_ response: PutResponse) -> UnsafeMutablePointer<Etcdserverpb__PutResponse> {
        message(etcdserverpb__put_response__init) { c in
            c.header = header(response.header)
            c.prev_kv = response.prevKV.map { keyValue($0) }
        }
    }
}

// MARK: DeleteRange

extension DeleteRangeRequest {
    init(c: Etcdserverpb__DeleteRangeRequest) {
        self.init(key: [UInt8](protobufC: c.key), rangeEnd: [UInt8](protobufC: c.range_end), prevKV: c.prev_kv != 0)
    }

    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.DeleteRangeRequest", unpack: etcdserverpb__delete_range_request__unpack,
            free: etcdserverpb__delete_range_request__free_unpacked, convert: DeleteRangeRequest.init(c:))
    }

    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        return pack(
            arena.deleteRangeRequest(self), size: etcdserverpb__delete_range_request__get_packed_size,
            pack: etcdserverpb__delete_range_request__pack)
    }
}

extension DeleteRangeResponse {
    init(c: Etcdserverpb__DeleteRangeResponse) {
        self.init(
            header: c.header.map { ResponseHeader(c: $0.pointee) }, deleted: c.deleted,
            prevKVs: repeated(c.n_prev_kvs, c.prev_kvs, Mvccpb.KeyValue.init(c:)))
    }

    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.DeleteRangeResponse", unpack: etcdserverpb__delete_range_response__unpack,
            free: etcdserverpb__delete_range_response__free_unpacked, convert: DeleteRangeResponse.init(c:))
    }

    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        return pack(
            arena.deleteRangeResponse(self), size: etcdserverpb__delete_range_response__get_packed_size,
            pack: etcdserverpb__delete_range_response__pack)
    }
}

extension CArena {
    func deleteRangeRequest(_ request: DeleteRangeRequest) -> UnsafeMutablePointer<Etcdserverpb__DeleteRangeRequest> {
        message(etcdserverpb__delete_range_request__init) { c in
            c.key = bytes(request.key)
            c.range_end = bytes(request.rangeEnd)
            c.prev_kv = request.prevKV.protobufC
        }
    }

    func deleteRangeResponse(_ response: DeleteRangeResponse) -> UnsafeMutablePointer<Etcdserverpb__DeleteRangeResponse> {
        message(etcdserverpb__delete_range_response__init) { c in
            c.header = header(response.header)
            c.deleted = response.deleted
            (c.n_prev_kvs, c.prev_kvs) = keyValues(response.prevKVs)
        }
    }
}

// MARK: Compact

extension CompactionRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.CompactionRequest", unpack: etcdserverpb__compaction_request__unpack,
            free: etcdserverpb__compaction_request__free_unpacked,
            convert: { CompactionRequest(revision: $0.revision, physical: $0.physical != 0) })
    }

    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        let c = arena.message(etcdserverpb__compaction_request__init) { (c: inout Etcdserverpb__CompactionRequest) in
            c.revision = revision
            c.physical = physical.protobufC
        }
        return pack(c, size: etcdserverpb__compaction_request__get_packed_size, pack: etcdserverpb__compaction_request__pack)
    }
}

extension CompactionResponse {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.CompactionResponse", unpack: etcdserverpb__compaction_response__unpack,
            free: etcdserverpb__compaction_response__free_unpacked,
            convert: { CompactionResponse(header: $0.header.map { ResponseHeader(c: $0.pointee) }) })
    }

    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        let c = arena.message(etcdserverpb__compaction_response__init) { (c: inout Etcdserverpb__CompactionResponse) in
            c.header = arena.header(header)
        }
        return pack(c, size: etcdserverpb__compaction_response__get_packed_size, pack: etcdserverpb__compaction_response__pack)
    }
}
