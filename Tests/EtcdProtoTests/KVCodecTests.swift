import EtcdProto
import Testing

@Suite("KV codecs")
struct KVCodecTests {
    @Test("a KeyValue alone encodes as etcd stores it: fields in number order, zero fields left out")
    func keyValueBytes() {
        let put = Mvccpb.KeyValue(key: Array("a".utf8), createRevision: 2, modRevision: 300, version: 1, value: [0x78], lease: 0)
        #expect(put.protobufBytes() == [0x0A, 0x01, 0x61, 0x10, 0x02, 0x18, 0xAC, 0x02, 0x20, 0x01, 0x2A, 0x01, 0x78])
        #expect(Mvccpb.KeyValue(key: Array("a".utf8)).protobufBytes() == [0x0A, 0x01, 0x61], "a tombstone's")
        #expect(Mvccpb.KeyValue(key: [1], lease: -1).protobufBytes().suffix(11) == [0x30] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
    }

    @Test("a range request with every field set round-trips")
    func rangeRequest() throws {
        var request = RangeRequest()
        request.key = [0, 1, 0xFF]
        request.rangeEnd = [0]
        request.limit = 7
        request.revision = -3
        request.sortOrder = .descend
        request.sortTarget = .value
        request.serializable = true
        request.keysOnly = true
        request.countOnly = true
        request.minModRevision = 1
        request.maxModRevision = 2
        request.minCreateRevision = 3
        request.maxCreateRevision = 4
        #expect(try RangeRequest(protobufBytes: request.protobufBytes()) == request)
    }

    @Test("an out-of-enum sort order survives decoding so the service can refuse it")
    func unknownEnum() throws {
        var request = RangeRequest()
        request.key = [1]
        request.sortOrder = RangeRequest.SortOrder(rawValue: 9)
        #expect(try RangeRequest(protobufBytes: request.protobufBytes()).sortOrder.rawValue == 9)
    }

    @Test("a range response with kvs and header round-trips")
    func rangeResponse() throws {
        let response = RangeResponse(
            header: ResponseHeader(clusterID: 1, memberID: 2, revision: 3, raftTerm: 4),
            kvs: [
                Mvccpb.KeyValue(key: [1], createRevision: 2, modRevision: 3, version: 1, value: [9, 9], lease: 5),
                Mvccpb.KeyValue(key: [2]),
            ], more: true, count: 10)
        #expect(try RangeResponse(protobufBytes: response.protobufBytes()) == response)
    }

    @Test("a nested transaction with every op and compare kind round-trips")
    func txn() throws {
        var put = PutRequest(key: [1], value: [2], lease: 3)
        put.prevKV = true
        put.ignoreLease = true
        let inner = TxnRequest(
            compare: [Compare(key: [5], target: .lease, result: .notEqual, operand: .lease(0))],
            success: [.deleteRange(DeleteRangeRequest(key: [1], rangeEnd: [0], prevKV: true))], failure: [.none])
        let request = TxnRequest(
            compare: [
                Compare(key: [1], rangeEnd: [2], target: .value, result: .greater, operand: .value([3])),
                Compare(key: [1], target: .create, result: .less, operand: .createRevision(4)),
                Compare(key: [1], target: .mod, operand: .modRevision(5)),
                Compare(key: [1], target: .version, operand: .version(6)),
                Compare(key: [1], target: .version),
            ],
            success: [.put(put), .range(RangeRequest()), .txn(inner)],
            failure: [.deleteRange(DeleteRangeRequest(key: [7]))])
        #expect(try TxnRequest(protobufBytes: request.protobufBytes()) == request)

        let response = TxnResponse(
            header: ResponseHeader(revision: 9), succeeded: true,
            responses: [
                .put(PutResponse(header: ResponseHeader(revision: 9), prevKV: Mvccpb.KeyValue(key: [1]))),
                .range(RangeResponse(count: 1)), .deleteRange(DeleteRangeResponse(deleted: 2)),
                .txn(TxnResponse(header: ResponseHeader(), succeeded: false, responses: [])),
            ])
        #expect(try TxnResponse(protobufBytes: response.protobufBytes()) == response)
    }

    @Test("truncated bytes are refused with the message name")
    func malformed() {
        let bytes = PutRequest(key: [1, 2, 3], value: [4]).protobufBytes()
        #expect(throws: ProtoDecodingError(messageName: "etcdserverpb.PutRequest")) {
            try PutRequest(protobufBytes: Array(bytes.dropLast()))
        }
    }
}
