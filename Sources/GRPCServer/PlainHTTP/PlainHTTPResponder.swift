public import NIOCore

/// Answers plain HTTP/1.1 requests that arrive on the gRPC port, as etcd answers `/health`, `/version`, `/metrics`
/// and its JSON gateway on its client port next to gRPC. The server calls it on the connection's event loop, once
/// per request; it calls `reply` once, at once or later from any thread, and must not block the loop meanwhile.
public protocol PlainHTTPResponder: Sendable {
    func respond(
        to request: PlainHTTPRequest, on eventLoop: any EventLoop, reply: @escaping @Sendable (PlainHTTPResponse) -> Void)
}

/// A plain HTTP request as a responder sees it: method, target and body.
public struct PlainHTTPRequest: Sendable, Equatable {
    /// The request method as sent (`GET`, `POST`, …).
    public var method: String
    /// The path, without the query.
    public var path: String
    /// The query's parameters in order, percent-decoded (`?exclude=NOSPACE&serializable=true`).
    public var query: [(name: String, value: String)]
    /// The request body (empty for most GETs).
    public var body: [UInt8]

    public init(method: String, target: String, body: [UInt8] = []) {
        self.method = method
        self.body = body
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(parts.first ?? "")
        query = parts.count > 1 ? Self.parseQuery(parts[1]) : []
    }

    /// The values of every `name` parameter, in order.
    public func values(of name: String) -> [String] {
        query.filter { $0.name == name }.map(\.value)
    }

    public static func == (lhs: PlainHTTPRequest, rhs: PlainHTTPRequest) -> Bool {
        lhs.method == rhs.method && lhs.path == rhs.path && lhs.body == rhs.body
            && lhs.query.map { [$0.name, $0.value] } == rhs.query.map { [$0.name, $0.value] }
    }

    /// `a=1&b=x%20y` → [("a", "1"), ("b", "x y")]; `+` is a space, as in HTML forms and Go's `url.ParseQuery`.
    private static func parseQuery(_ query: Substring) -> [(name: String, value: String)] {
        query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    private static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), utf8.count >= 2,
                let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A plain HTTP response: status, extra headers (Content-Length and Date are added by the server), body.
public struct PlainHTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A `text/plain` answer with `text` and a newline, as Go's `http.Error` writes one.
    public static func error(_ status: Int, _ text: String, headers: [String: String] = [:]) -> PlainHTTPResponse {
        var all = ["Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"]
        all.merge(headers) { _, new in new }
        return PlainHTTPResponse(status: status, headers: all, body: Array((text + "\n").utf8))
    }

    /// Go's `404 page not found`.
    public static let notFound = error(404, "404 page not found")

    /// Go's `405 Method Not Allowed`, naming the method a handler takes when it sets `Allow` (etcd's health handlers
    /// do, its JSON gateway does not).
    public static func methodNotAllowed(allowing allowed: String? = nil) -> PlainHTTPResponse {
        error(405, "Method Not Allowed", headers: allowed.map { ["Allow": $0] } ?? [:])
    }
}
