import GRPCServer
import Testing

@Suite("grpc-message percent-encoding")
struct GRPCStatusMessageEncodingTests {
    @Test("printable ASCII is sent as is")
    func plain() {
        let message = "etcdserver: mvcc: required revision has been compacted"
        #expect(GRPCStatusMessageEncoding.encode(message) == message)
    }

    @Test("percent, control characters and non-ASCII are percent-encoded as UTF-8 bytes")
    func encoded() {
        #expect(GRPCStatusMessageEncoding.encode("100%") == "100%25")
        #expect(GRPCStatusMessageEncoding.encode("a\nb") == "a%0Ab")
        #expect(GRPCStatusMessageEncoding.encode("é") == "%C3%A9")
    }

    @Test("decoding inverts encoding and keeps malformed sequences", arguments: ["100%", "é\t€", "plain", ""])
    func roundTrip(message: String) {
        #expect(GRPCStatusMessageEncoding.decode(GRPCStatusMessageEncoding.encode(message)) == message)
    }

    @Test("a malformed escape is kept verbatim")
    func malformed() {
        #expect(GRPCStatusMessageEncoding.decode("50%zz") == "50%zz")
        #expect(GRPCStatusMessageEncoding.decode("end%4") == "end%4")
    }
}
