@testable import EtcdProto
import Testing

@Suite("JSON ↔ protobuf as etcd's gateway writes and reads it")
struct ProtoJSONTests {
    private func schema(_ name: String) throws -> MessageSchema {
        try #require(MessageSchema.registry[name])
    }

    @Test("the schemas come from protobuf-c's descriptors, recursive messages included")
    func schemas() throws {
        let range = try schema("etcdserverpb.RangeRequest")
        #expect(range.fields.map(\.name).prefix(4) == ["key", "range_end", "limit", "revision"])
        #expect(range.field(jsonKey: "keysOnly")?.name == "keys_only")
        #expect(range.field(jsonKey: "keys_only")?.number == 8)
        let requestOp = try schema("etcdserverpb.RequestOp")
        #expect(requestOp.field(jsonKey: "request_txn")?.kind == .message("etcdserverpb.TxnRequest"))
        #expect(MessageSchema.methods["etcdserverpb.KV/Range"]?.response == "etcdserverpb.RangeResponse")
        #expect(FieldSchema.jsonName(of: "prev_kv") == "prevKv" && FieldSchema.jsonName(of: "TTL") == "TTL")
    }

    @Test("a request in JSON encodes to what the Swift codec decodes")
    func requestIntoProtobuf() throws {
        let json = #"{"key":"Zm9v","rangeEnd":"Zm9w","limit":"10","revision":3,"sort_order":"DESCEND","sortTarget":2,"#
            + #""keys_only":true,"unknown":{"x":1},"serializable":null}"#
        let bytes = try ProtoJSON.encode(json: Array(json.utf8), as: schema("etcdserverpb.RangeRequest"))
        let request = try RangeRequest(protobufBytes: bytes)
        #expect(request.key == Array("foo".utf8) && request.rangeEnd == Array("fop".utf8))
        #expect(request.limit == 10 && request.revision == 3 && request.keysOnly && !request.serializable)
        #expect(request.sortOrder.rawValue == 2 && request.sortTarget.rawValue == 2)
        #expect(try ProtoJSON.encode(json: Array("  \n".utf8), as: schema("etcdserverpb.RangeRequest")).isEmpty)
    }

    @Test("nested and repeated fields: a transaction with a nested transaction")
    func transaction() throws {
        let json = #"{"compare":[{"key":"YQ==","result":"GREATER","target":"MOD","mod_revision":"1"}],"#
            + #""success":[{"request_put":{"key":"YQ==","value":"Yg=="}},{"requestTxn":{"failure":[{"request_range":{"key":"YQ=="}}]}}]}"#
        let bytes = try ProtoJSON.encode(json: Array(json.utf8), as: schema("etcdserverpb.TxnRequest"))
        let request = try TxnRequest(protobufBytes: bytes)
        #expect(request.compare.count == 1 && request.compare[0].key == Array("a".utf8))
        #expect(request.success.count == 2)
        guard case .txn(let nested) = request.success[1] else {
            Issue.record("the second operation is no transaction")
            return
        }
        #expect(nested.failure.count == 1)
    }

    @Test("a response writes .proto names in field order, 64-bit numbers as strings, zero values left out")
    func responseIntoJSON() throws {
        let response = RangeResponse(
            header: ResponseHeader(clusterID: 1, memberID: UInt64.max, revision: 7, raftTerm: 0),
            kvs: [Mvccpb.KeyValue(key: Array("k".utf8), createRevision: 2, modRevision: 7, version: 3, value: [0xff], lease: 0)],
            more: false, count: 1)
        let json = try ProtoJSON.json(of: response.protobufBytes(), as: schema("etcdserverpb.RangeResponse"))
        #expect(json == #"{"header":{"cluster_id":"1","member_id":"18446744073709551615","revision":"7"},"#
            + #""kvs":[{"key":"aw==","create_revision":"2","mod_revision":"7","version":"3","value":"/w=="}],"count":"1"}"#)
    }

    @Test("enums by name, and the zero enum left out (a PUT event has no type)")
    func enums() throws {
        let event = Mvccpb.Event(type: .delete, kv: Mvccpb.KeyValue(key: [0x61], modRevision: 4), prevKV: nil)
        let json = try ProtoJSON.json(of: event.protobufBytes(), as: schema("mvccpb.Event"))
        #expect(json == #"{"type":"DELETE","kv":{"key":"YQ==","mod_revision":"4"}}"#)
        let put = Mvccpb.Event(type: .put, kv: Mvccpb.KeyValue(key: [0x61]), prevKV: nil)
        #expect(try ProtoJSON.json(of: put.protobufBytes(), as: schema("mvccpb.Event")) == #"{"kv":{"key":"YQ=="}}"#)
    }

    @Test("bad input fails in the words of Go's encoding/json and jsonpb, as etcd's gateway answers")
    func badInput() throws {
        let put = try schema("etcdserverpb.PutRequest")
        func failure(_ json: String) -> String? {
            do {
                _ = try ProtoJSON.encode(json: Array(json.utf8), as: put)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(failure(#"{"value":"x<&>"}"#) == "illegal base64 data at input byte 1")
        #expect(failure(#"{"value":"YQ"}"#) == "illegal base64 data at input byte 0")
        #expect(failure(#"{"value":"YWJjZA"}"#) == "illegal base64 data at input byte 4")
        #expect(failure(#"{"lease":"abc"}"#) == "invalid character 'a' looking for beginning of value")
        #expect(failure(#"{"lease":"1.5"}"#) == "json: cannot unmarshal number 1.5 into Go value of type int64")
        #expect(failure(#"{"lease":2.0}"#) == "json: cannot unmarshal number 2.0 into Go value of type int64")
        #expect(failure(#"{"lease":""}"#) == "unexpected end of JSON input")
        #expect(failure(#"{"lease":true}"#) == "json: cannot unmarshal bool into Go value of type int64")
        #expect(failure(#"{"key":5}"#) == "json: cannot unmarshal number into Go value of type []uint8")
        #expect(failure(#"{"prev_kv":"yes"}"#) == "json: cannot unmarshal string into Go value of type bool")
        #expect(failure("[1]") == "json: cannot unmarshal array into Go value of type map[string]json.RawMessage")
        #expect(failure(#""x""#) == "json: cannot unmarshal string into Go value of type map[string]json.RawMessage")
        #expect(failure("{") == "unexpected EOF")
        #expect(failure("nul") == "unexpected EOF")
        #expect(failure("xx") == "invalid character 'x' looking for beginning of value")
        // As Go's decoder, the first value is read and what follows it ignored.
        #expect(failure(#"{"key":"YQ=="}}"#) == nil)
        let range = try schema("etcdserverpb.RangeRequest")
        #expect(throws: ProtoJSON.Failure(message: #"unknown value "BAD" for enum etcdserverpb.RangeRequest_SortOrder"#)) {
            try ProtoJSON.encode(json: Array(#"{"sort_order":"BAD"}"#.utf8), as: range)
        }
        #expect(throws: ProtoJSON.Failure(message: #"unknown value "2" for enum etcdserverpb.RangeRequest_SortOrder"#)) {
            try ProtoJSON.encode(json: Array(#"{"sort_order":"2"}"#.utf8), as: range)
        }
        let member = try schema("etcdserverpb.MemberAddRequest")
        #expect(throws: ProtoJSON.Failure(message: "json: cannot unmarshal string into Go value of type []json.RawMessage")) {
            try ProtoJSON.encode(json: Array(#"{"peerURLs":"http://x"}"#.utf8), as: member)
        }
    }

    @Test("the numbers 0 and 1 are numbers and true and false are booleans (on Linux 1 also casts to Bool)")
    func zeroOneAndBooleans() throws {
        let range = try schema("etcdserverpb.RangeRequest")
        let bytes = try ProtoJSON.encode(
            json: Array(#"{"key":"YQ==","revision":1,"limit":0,"serializable":true,"keys_only":false}"#.utf8), as: range)
        let request = try RangeRequest(protobufBytes: bytes)
        #expect(request.revision == 1 && request.limit == 0 && request.serializable && !request.keysOnly)
        #expect(throws: ProtoJSON.Failure.self) {
            try ProtoJSON.encode(json: Array(#"{"serializable":1}"#.utf8), as: range)
        }
        #expect(throws: ProtoJSON.Failure.self) {
            try ProtoJSON.encode(json: Array(#"{"revision":true}"#.utf8), as: range)
        }
        let large = try ProtoJSON.encode(json: Array(#"{"revision":9007199254740993}"#.utf8), as: range)
        #expect(try RangeRequest(protobufBytes: large).revision == 9_007_199_254_740_993)
        #expect(throws: ProtoJSON.Failure.self) {
            try ProtoJSON.encode(json: Array(#"{"revision":18446744073709551615}"#.utf8), as: range)
        }
    }

    @Test("strings escaped as Go's encoding/json escapes them")
    func quoting() {
        #expect(ProtoJSON.quoted("a\"b\\c\n<&>\u{1}") == #""a\"b\\c\n\u003c\u0026\u003e\u0001""#)
    }
}
