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
