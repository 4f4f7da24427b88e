@testable import EtcdService
import GRPCServer
import Testing

@Suite("etcd's --host-whitelist, --cors, OPTIONS and /v3beta in front of plain HTTP")
struct HTTPAccessControlTests {
    private func request(_ method: String = "GET", _ target: String = "/health", host: String = "localhost",
                         origin: String? = nil) -> PlainHTTPRequest {
        var headers = [(name: "Host", value: host)]
        if let origin { headers.append((name: "Origin", value: origin)) }
        return PlainHTTPRequest(method: method, target: target, headers: headers)
    }

    @Test("the Host header's name is Go's SplitHostPort's: port and IPv6 brackets off, unsplittable values whole")
    func hostnames() {
        #expect(HTTPAccessControl.hostname("example.com:2379") == "example.com")
        #expect(HTTPAccessControl.hostname("example.com") == "example.com")
        #expect(HTTPAccessControl.hostname("[::1]:2379") == "::1")
        #expect(HTTPAccessControl.hostname("::1") == "::1")
        #expect(HTTPAccessControl.hostname("[::1]") == "[::1]")
        #expect(HTTPAccessControl.hostname("a:b:c") == "a:b:c")
        #expect(HTTPAccessControl.hostname("") == "")
    }

    @Test("by default every host is served and every origin gets the CORS headers")
    func defaults() {
        guard case .serve(_, let headers) = HTTPAccessControl().decide(request(host: "anything:1")) else {
            Issue.record("refused")
            return
        }
        #expect(headers["Access-Control-Allow-Origin"] == "*")
        // Empty lists allow everything too, as etcd's do.
        guard case .serve(_, let empty) = HTTPAccessControl(cors: [], hostWhitelist: []).decide(request(host: "x"))
        else {
            Issue.record("refused with empty lists")
            return
        }
        #expect(empty["Access-Control-Allow-Origin"] == "*")
    }

    @Test("a host off the list is refused with 421 and etcd's explanation naming it; names compare exactly")
    func whitelist() {
        let control = HTTPAccessControl(hostWhitelist: ["example.com"])
        guard case .serve = control.decide(request(host: "example.com:80")) else {
            Issue.record("example.com refused")
            return
        }
        guard case .refuse(let refusal) = control.decide(request(host: "EXAMPLE.com")) else {
            Issue.record("EXAMPLE.com served")
            return
        }
        #expect(refusal.status == 421)
        #expect(String(decoding: refusal.body, as: UTF8.self).contains(#"etcd --host-whitelist "EXAMPLE.com""#))
    }

    @Test("listed origins get the headers naming themselves; others none; OPTIONS answered at once")
    func cors() {
        let control = HTTPAccessControl(cors: ["http://a.example"])
        guard case .serve(_, let listed) = control.decide(request(origin: "http://a.example")),
            case .serve(_, let other) = control.decide(request(origin: "http://b.example")),
            case .answer(let options) = control.decide(request("OPTIONS", "/v3/kv/range", origin: "http://a.example"))
        else {
            Issue.record("a request was refused")
            return
        }
        #expect(listed["Access-Control-Allow-Origin"] == "http://a.example" && other.isEmpty)
        #expect(options.status == 200 && options.body.isEmpty)
        #expect(options.headers["Access-Control-Allow-Methods"] == "POST, GET, OPTIONS, PUT, DELETE")
    }

    @Test("/v3beta/ paths are served as /v3/")
    func v3beta() {
        guard case .serve(let rewritten, _) = HTTPAccessControl().decide(request("POST", "/v3beta/kv/range?x=1")) else {
            Issue.record("refused")
            return
        }
        #expect(rewritten.path == "/v3/kv/range" && rewritten.values(of: "x") == ["1"])
    }
}
