internal import CEtcdProto

// protobuf-c conversions for transactions: Compare, RequestOp, ResponseOp, TxnRequest, TxnResponse. Request and
// response ops nest transactions, so the conversions recurse.

// The oneof case numbers are the proto field numbers.
private let rangeCase: UInt32 = 1
private let putCase: UInt32 = 2
private let deleteRangeCase: UInt32 = 3
private let txnCase: UInt32 = 4

extension Compare {
    init(c: Etcdserverpb__Compare) {
        self.init(
            key: [UInt8](protobufC: c.key), rangeEnd: [UInt8](protobufC: c.range_end),
            target: Target(rawValue: Int32(bitPattern: c.target.rawValue)),
            result: Result(rawValue: Int32(bitPattern: c.result.rawValue)))
        switch c.target_union_case.rawValue {
        case 4: operand = .version(c.version)
        case 5: operand = .createRevision(c.create_revision)
        case 6: operand = .modRevision(c.mod_revision)
        case 7: operand = .value([UInt8](protobufC: c.value))
        case 8: operand = .lease(c.lease)
        default: operand = nil
        }
    }
}

extension RequestOp {
    init(c: Etcdserverpb__RequestOp) {
        switch c.request_case.rawValue {
        case rangeCase: self = c.request_range.map { .range(RangeRequest(c: $0.pointee)) } ?? .none
        case putCase: self = c.request_put.map { .put(PutRequest(c: $0.pointee)) } ?? .none
        case deleteRangeCase:
            self = c.request_delete_range.map { .deleteRange(DeleteRangeRequest(c: $0.pointee)) } ?? .none
        case txnCase: self = c.request_txn.map { .txn(TxnRequest(c: $0.pointee)) } ?? .none
        default: self = .none
        }
    }
}

extension ResponseOp {
    init?(c: Etcdserverpb__ResponseOp) {
        switch c.response_case.rawValue {
        case rangeCase: guard let r = c.response_range else { return nil }; self = .range(RangeResponse(c: r.pointee))
        case putCase: guard let r = c.response_put else { return nil }; self = .put(PutResponse(c: r.pointee))
        case deleteRangeCase:
            guard let r = c.response_delete_range else { return nil }
            self = .deleteRange(DeleteRangeResponse(c: r.pointee))
        case txnCase: guard let r = c.response_txn else { return nil }; self = .txn(TxnResponse(c: r.pointee))
        default: return nil
        }
    }
}

extension TxnRequest {
    init(c: Etcdserverpb__TxnRequest) {
        self.init(
            compare: repeated(c.n_compare, c.compare, Compare.init(c:)),
            success: repeated(c.n_success, c.success, RequestOp.init(c:)),
            failure: repeated(c.n_failure, c.failure, RequestOp.init(c:)))
    }

    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.TxnRequest", unpack: etcdserverpb__txn_request__unpack,
            free: etcdserverpb__txn_request__free_unpacked, convert: TxnRequest.init(c:))
    }

    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        return pack(
            arena.txnRequest(self), size: etcdserverpb__txn_request__get_packed_size,
            pack: etcdserverpb__txn_request__pack)
    }
}

extension TxnResponse {
    init(c: Etcdserverpb__TxnResponse) {
        self.init(
            header: c.header.map { ResponseHeader(c: $0.pointee) }, succeeded: c.succeeded != 0,
            responses: repeated(c.n_responses, c.responses, ResponseOp.init(c:)).compactMap { $0 })
    }

    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.TxnResponse", unpack: etcdserverpb__txn_response__unpack,
            free: etcdserverpb__txn_response__free_unpacked, convert: TxnResponse.init(c:))
    }

    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        return pack(
            arena.txnResponse(self), size: etcdserverpb__txn_response__get_packed_size,
            pack: etcdserverpb__txn_response__pack)
    }
}

extension CArena {
    func compare(_ compare: Compare) -> UnsafeMutablePointer<Etcdserverpb__Compare> {
        message(etcdserverpb__compare__init) { c in
            c.result = .init(rawValue: UInt32(bitPattern: compare.result.rawValue))
            c.target = .init(rawValue: UInt32(bitPattern: compare.target.rawValue))
            c.key = bytes(compare.key)
            c.range_end = bytes(compare.rangeEnd)
            switch compare.operand {
            case .version(let v): c.target_union_case = .init(rawValue: 4); c.version = v
            case .createRevision(let v): c.target_union_case = .init(rawValue: 5); c.create_revision = v
            case .modRevision(let v): c.target_union_case = .init(rawValue: 6); c.mod_revision = v
            case .value(let v): c.target_union_case = .init(rawValue: 7); c.value = bytes(v)
            case .lease(let v): c.target_union_case = .init(rawValue: 8); c.lease = v
            case nil: break
            }
        }
    }

    func requestOp(_ op: RequestOp) -> UnsafeMutablePointer<Etcdserverpb__RequestOp> {
        message(etcdserverpb__request_op__init) { c in
            switch op {
            case .range(let r): c.request_case = .init(rawValue: rangeCase); c.request_range = rangeRequest(r)
            case .put(let r): c.request_case = .init(rawValue: putCase); c.request_put = putRequest(r)
            case .deleteRange(let r):
                c.request_case = .init(rawValue: deleteRangeCase); c.request_delete_range = deleteRangeRequest(r)
            case .txn(let r): c.request_case = .init(rawValue: txnCase); c.request_txn = txnRequest(r)
            case .none: break
            }
        }
    }

    func responseOp(_ op: ResponseOp) -> UnsafeMutablePointer<Etcdserverpb__ResponseOp> {
        message(etcdserverpb__response_op__init) { c in
            switch op {
            case .range(let r): c.response_case = .init(rawValue: rangeCase); c.response_range = rangeResponse(r)
            case .put(let r): c.response_case = .init(rawValue: putCase); c.response_put = putResponse(r)
            case .deleteRange(let r):
                c.response_case = .init(rawValue: deleteRangeCase); c.response_delete_range = deleteRangeResponse(r)
            case .txn(let r): c.response_case = .init(rawValue: txnCase); c.response_txn = txnResponse(r)
            }
        }
    }

    func txnRequest(_ request: TxnRequest) -> UnsafeMutablePointer<Etcdserverpb__TxnRequest> {
        message(etcdserverpb__txn_request__init) { c in
            c.n_compare = request.compare.count
            c.compare = pointerArray(request.compare.map { compare($0) })
            c.n_success = request.success.count
            c.success = pointerArray(request.success.map { requestOp($0) })
            c.n_failure = request.failure.count
            c.failure = pointerArray(request.failure.map { requestOp($0) })
        }
    }

    func txnResponse(_ response: TxnResponse) -> UnsafeMutablePointer<Etcdserverpb__TxnResponse> {
        message(etcdserverpb__txn_response__init) { c in
            c.header = header(response.header)
            c.succeeded = response.succeeded.protobufC
            c.n_responses = response.responses.count
            c.responses = pointerArray(response.responses.map { responseOp($0) })
        }
    }
}
