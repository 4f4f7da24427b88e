import EtcdProto
import Testing

@Suite("grpc.health.v1 codecs")
struct HealthCodecTests {
    @Test("a request round-trips through protobuf-c")
    func requestRoundTrip() throws {
        let request = HealthCheckRequest(service: "etcdserverpb.KV")
        #expect(try HealthCheckRequest(protobufBytes: request.protobufBytes()) == request)
    }

    @Test("the empty request encodes to zero bytes, as proto3 omits defaults")
    func emptyRequest() throws {
        #expect(HealthCheckRequest().protobufBytes() == [])
        #expect(try HealthCheckRequest(protobufBytes: []) == HealthCheckRequest())
    }

    @Test("SERVING encodes as field 1 varint 1")
    func servingBytes() {
        #expect(HealthCheckResponse(status: .serving).protobufBytes() == [0x08, 0x01])
    }

    @Test("malformed bytes are refused")
    func malformed() {
        #expect(throws: ProtoDecodingError.self) { try HealthCheckRequest(protobufBytes: [0x0A, 0x05, 0x61]) }
    }
}
