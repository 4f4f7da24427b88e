import GRPCServer
import Testing

@Suite("request HEADERS validation")
struct RequestHeadValidatorTests {
    private func headers(
        path: String = "/etcdserverpb.KV/Range", contentType: String? = "application/grpc", method: String = "POST",
        extra: [HeaderField] = []
    ) -> [HeaderField] {
        var fields = [HeaderField(":method", method), HeaderField(":scheme", "http"), HeaderField(":path", path)]
        if let contentType { fields.append(HeaderField("content-type", contentType)) }
        return fields + [HeaderField("te", "trailers")] + extra
    }

    @Test("a request from etcdctl is accepted with its metadata and timeout")
    func etcdctlRequest() {
        let outcome = RequestHeadValidator.validate(
            headers(extra: [
                HeaderField("grpc-timeout", "4994857u"), HeaderField("hasleader", "true"),
                HeaderField("client-api-version", "3.4"),
            ]))
        guard case .accept(let head) = outcome else {
            Issue.record("expected accept, got \(outcome)")
            return
        }
        #expect(head.service == "etcdserverpb.KV")
        #expect(head.method == "Range")
        #expect(head.timeout?.nanoseconds == 4_994_857_000)
        #expect(head.metadata.first("hasleader") == "true")
        #expect(head.metadata.first("client-api-version") == "3.4")
    }

    @Test("content-type variants that are gRPC", arguments: ["application/grpc", "application/grpc+proto", "application/grpc;charset=utf-8", "Application/GRPC"])
    func grpcContentTypes(contentType: String) {
        guard case .accept = RequestHeadValidator.validate(headers(contentType: contentType)) else {
            Issue.record("\(contentType) refused")
            return
        }
    }

    @Test("a non-gRPC or missing content-type is HTTP 415", arguments: ["application/json", "application/grpcx", "text/plain", nil] as [String?])
    func notGRPC(contentType: String?) {
        guard case .rejectHTTP(let status, _) = RequestHeadValidator.validate(headers(contentType: contentType)) else {
            Issue.record("\(String(describing: contentType)) accepted")
            return
        }
        #expect(status == 415)
    }

    @Test("a method other than POST is HTTP 405")
    func notPost() {
        guard case .rejectHTTP(let status, _) = RequestHeadValidator.validate(headers(method: "GET")) else {
            Issue.record("GET accepted")
            return
        }
        #expect(status == 405)
    }

    @Test("malformed paths are UNIMPLEMENTED", arguments: ["Range", "/Range", "/svc/", "//Range"])
    func malformedPath(path: String) {
        guard case .rejectGRPC(let status) = RequestHeadValidator.validate(headers(path: path)) else {
            Issue.record("\(path) accepted")
            return
        }
        #expect(status.code == .unimplemented)
    }

    @Test("a malformed grpc-timeout is INTERNAL")
    func malformedTimeout() {
        let outcome = RequestHeadValidator.validate(headers(extra: [HeaderField("grpc-timeout", "later")]))
        #expect(outcome == .rejectGRPC(GRPCStatus(.internal, "transport: malformed grpc-timeout: \"later\"")))
    }
}
