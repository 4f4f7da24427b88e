@testable import EtcdService
import GRPCServer
import Testing

@Suite("Go's ServeMux redirects in front of etcd's plain HTTP")
struct ServeMuxRedirectTests {
    @Test("paths are cleaned as Go's cleanPath cleans them, a trailing slash kept", arguments: [
        ("/health", "/health"), ("//health", "/health"), ("/./version", "/version"), ("/a/../b", "/b"),
        ("/..", "/"), ("/a//b/", "/a/b/"), ("", "/"), ("/", "/"), ("/v3/kv/../watch", "/v3/watch"),
    ])
    func clean(path: String, cleaned: String) {
        #expect(ServeMuxRedirect.cleanPath(path) == cleaned)
    }

    @Test("an unclean path is redirected with its query; a subtree without its slash gets it; clean paths pass")
    func redirects() {
        let get = ServeMuxRedirect.response(to: PlainHTTPRequest(method: "GET", target: "/./version?a=b"), subtrees: [])
        #expect(get?.status == 301 && get?.headers["Location"] == "/version?a=b")
        #expect(get?.headers["Content-Type"] == "text/html; charset=utf-8")
        #expect(get.map { String(decoding: $0.body, as: UTF8.self) } == "<a href=\"/version?a=b\">Moved Permanently</a>.\n\n")
        let post = ServeMuxRedirect.response(to: PlainHTTPRequest(method: "POST", target: "/v3"), subtrees: ["/v3/"])
        #expect(post?.headers["Location"] == "/v3/" && post?.body.isEmpty == true && post?.headers["Content-Type"] == nil)
        #expect(ServeMuxRedirect.response(to: PlainHTTPRequest(method: "GET", target: "/v3"), subtrees: []) == nil)
        #expect(ServeMuxRedirect.response(to: PlainHTTPRequest(method: "GET", target: "/health?x=1"), subtrees: ["/v3/"]) == nil)
    }
}
