@testable import GRPCServer
import Testing

@Suite("telling gRPC from plain HTTP by a connection's first bytes")
struct ProtocolSnifferTests {
    private func verdict(_ text: String) -> ProtocolSniffer.Verdict {
        ProtocolSniffer.verdict(Array(text.utf8))
    }

    @Test("the HTTP/2 preface, whole or in part, is gRPC once it cannot be a request line")
    func http2Preface() {
        #expect(verdict("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") == .http2)
        #expect(verdict("PRI ") == .http2, "PRI is the preface's method, no HTTP/1 one")
        #expect(verdict("PR") == .undecided)
    }

    @Test("request lines of every HTTP/1 method are plain HTTP, from the space after the method on")
    func requestLines() {
        for method in ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT"] {
            #expect(verdict("\(method) /health HTTP/1.1\r\n") == .http1, "\(method)")
            #expect(verdict(method) == .undecided, "\(method) without its space")
        }
        #expect(verdict("GET ") == .http1)
    }

    @Test("anything else goes to the HTTP/2 side, which answers it as malformed")
    func garbage() {
        #expect(verdict("get /health HTTP/1.1") == .http2, "methods are case-sensitive")
        #expect(verdict("FETCH /x HTTP/1.1") == .http2)
        #expect(verdict("\u{16}\u{03}\u{01}") == .http2, "a TLS ClientHello")
        #expect(verdict("ABCDEFGHIJ") == .http2, "longer than any method")
        #expect(verdict("") == .undecided)
    }
}
