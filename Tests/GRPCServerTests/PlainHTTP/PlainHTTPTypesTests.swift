@testable import GRPCServer
import Testing

@Suite("plain HTTP requests, responses and dates")
struct PlainHTTPTypesTests {
    @Test("a target splits into path and decoded query parameters, in order")
    func query() {
        let request = PlainHTTPRequest(method: "GET", target: "/health?exclude=NOSPACE&exclude=CORRUPT&x=a%20b+c&flag")
        #expect(request.path == "/health")
        #expect(request.values(of: "exclude") == ["NOSPACE", "CORRUPT"])
        #expect(request.values(of: "x") == ["a b c"])
        #expect(request.values(of: "flag") == [""])
        #expect(PlainHTTPRequest(method: "GET", target: "/version").query.isEmpty)
        #expect(PlainHTTPRequest(method: "GET", target: "/a?b=%zz").values(of: "b") == ["%zz"], "a bad escape stays")
    }

    @Test("errors read as Go's http.Error writes them")
    func errors() {
        let notFound = PlainHTTPResponse.notFound
        #expect(notFound.status == 404)
        #expect(notFound.body == Array("404 page not found\n".utf8))
        #expect(notFound.headers["Content-Type"] == "text/plain; charset=utf-8")
        #expect(notFound.headers["X-Content-Type-Options"] == "nosniff")
    }

    @Test("dates in IMF-fixdate form, across leap years and centuries")
    func dates() {
        #expect(HTTPDate.format(secondsSince1970: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(secondsSince1970: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")  // RFC 9110's
        #expect(HTTPDate.format(secondsSince1970: 951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
        #expect(HTTPDate.format(secondsSince1970: 1_796_677_670) == "Mon, 07 Dec 2026 21:07:50 GMT")
        #expect(HTTPDate.format(secondsSince1970: 4_133_980_799) == "Fri, 31 Dec 2100 23:59:59 GMT")
        #expect(HTTPDate.format(secondsSince1970: -1) == "Wed, 31 Dec 1969 23:59:59 GMT")
    }
}
