/// A plain HTTP request as a responder sees it: method, target, headers and body.
public struct PlainHTTPRequest: Sendable, Equatable {
    /// The request method as sent (`GET`, `POST`, …).
    public var method: String
    /// The path, without the query.
    public var path: String
    /// The query as sent, without its `?` (empty when there is none).
    public var rawQuery: String
    /// The query's parameters in order, percent-decoded (`?exclude=NOSPACE&serializable=true`).
    public var query: [(name: String, value: String)]
    /// The header fields in the order sent.
    public var headers: [(name: String, value: String)]
    /// The request body (empty for most GETs, and for a request answered as a stream, which reads its body as it
    /// arrives).
    public var body: [UInt8]

    public init(method: String, target: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.headers = headers
        self.body = body
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(parts.first ?? "")
        rawQuery = parts.count > 1 ? String(parts[1]) : ""
        query = parts.count > 1 ? Self.parseQuery(parts[1]) : []
    }

    /// The values of every `name` parameter, in order.
    public func values(of name: String) -> [String] {
        query.filter { $0.name == name }.map(\.value)
    }

    /// The first value of header `name` (compared without regard to case), or nil.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public static func == (lhs: PlainHTTPRequest, rhs: PlainHTTPRequest) -> Bool {
        lhs.method == rhs.method && lhs.path == rhs.path && lhs.body == rhs.body
            && lhs.query.map { [$0.name, $0.value] } == rhs.query.map { [$0.name, $0.value] }
            && lhs.headers.map { [$0.name, $0.value] } == rhs.headers.map { [$0.name, $0.value] }
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
