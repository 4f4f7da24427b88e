@testable import GRPCServer
import Testing

@Suite("header block rules (RFC 9113 §8.2–8.3)")
struct HeaderBlockRulesTests {
    /// What etcdctl sends when it dials one member by URL (`endpoint status`, `defrag`).
    private let memberDial = [
        HeaderField(":method", "POST"), HeaderField(":scheme", "http"),
        HeaderField(":path", "/etcdserverpb.Maintenance/Status"), HeaderField(":authority", "http://127.0.0.1:2379"),
        HeaderField("content-type", "application/grpc"), HeaderField("user-agent", "grpc-go/1.26.0"),
        HeaderField("te", "trailers"),
    ]

    @Test("an :authority that is a URL is accepted, as grpc-go accepts it")
    func urlAuthority() {
        #expect(HeaderBlockRules.isWellFormedRequest(memberDial))
        guard case .accept(let head) = RequestHeadValidator.validate(memberDial) else {
            Issue.record("refused")
            return
        }
        #expect(head.service == "etcdserverpb.Maintenance" && head.method == "Status")
    }

    @Test("names as long as a connection-specific one are fine when they are another name")
    func sameLengthNames() {
        let others = [
            HeaderField("ab", "1"), HeaderField("upgrayd", "1"), HeaderField("connectiox", "1"),
            HeaderField("proxy-connectiox", "1"), HeaderField("transfer-encodinx", "1"),
        ]
        #expect(HeaderBlockRules.isWellFormedRequest(memberDial + others))
    }

    @Test(
        "malformed request heads",
        arguments: [
            ("missing :scheme", [0, 2, 4]),
            ("missing :method", [1, 2, 4]),
            ("missing :path", [0, 1, 4]),
        ] as [(String, [Int])])
    func missingPseudoHeaders(what: String, keep: [Int]) {
        let fields = keep.map { memberDial[$0] }
        #expect(!HeaderBlockRules.isWellFormedRequest(fields), "\(what)")
        #expect(RequestHeadValidator.validate(fields) == .malformed, "\(what)")
    }

    @Test(
        "malformed fields",
        arguments: [
            HeaderField(":path", "/again"), HeaderField(":status", "200"), HeaderField(":authority", "twice"),
            HeaderField("Content-Length", "5"), HeaderField("x y", "1"), HeaderField("", "1"),
            HeaderField("connection", "close"), HeaderField("transfer-encoding", "chunked"),
            HeaderField("upgrade", "h2c"), HeaderField("te", "gzip"), HeaderField("x-a", "1\r\nx-b: 2"),
            HeaderField("x-a", "nul\u{0}"), HeaderField("keep-alive", "5"), HeaderField("proxy-connection", "x"),
        ])
    func malformedField(field: HeaderField) {
        #expect(!HeaderBlockRules.isWellFormedRequest(memberDial + [field]), "\(field)")
    }

    @Test("pseudo-headers come before regular fields; :path is not empty")
    func ordering() {
        var late = memberDial
        late.swapAt(3, 4)  // content-type before :authority
        #expect(!HeaderBlockRules.isWellFormedRequest(late))
        var emptyPath = memberDial
        emptyPath[2] = HeaderField(":path", "")
        #expect(RequestHeadValidator.validate(emptyPath) == .malformed)
    }

    @Test("values may hold tabs, spaces and non-ASCII; names every token symbol")
    func lenientValues() {
        let fields = memberDial + [
            HeaderField("x-note", " tab\there, é "), HeaderField("x-!#$%&'*+-.^_`|~09", "v"),
            HeaderField("te", "Trailers"),
        ]
        #expect(HeaderBlockRules.isWellFormedRequest(fields))
    }

    @Test("trailers: regular fields only")
    func trailers() {
        #expect(HeaderBlockRules.isWellFormedTrailer([]))
        #expect(HeaderBlockRules.isWellFormedTrailer([HeaderField("x-checksum", "1")]))
        #expect(!HeaderBlockRules.isWellFormedTrailer([HeaderField(":path", "/x")]))
        #expect(!HeaderBlockRules.isWellFormedTrailer([HeaderField("connection", "close")]))
    }
}
