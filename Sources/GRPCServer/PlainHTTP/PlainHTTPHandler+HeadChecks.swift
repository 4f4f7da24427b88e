import NIOCore
import NIOHTTP1

/// What Go's HTTP server (etcd's) checks in a request's head before any handler sees it. A refused request is
/// answered and its connection closed; the rest of it (no request is pending) is dropped as it arrives.
extension PlainHTTPHandler {
    /// An HTTP/1.1 request must name its host once (RFC 9112 §3.2); Go's server answers one that does not with
    /// `400 Bad Request: missing required Host header` (two or more: `400 Bad Request`) and closes the connection,
    /// before any handler sees it. Returns whether the request goes on.
    func hostIsGiven(_ head: HTTPRequestHead, context: ChannelHandlerContext) -> Bool {
        guard head.version.major == 1, head.version.minor >= 1 else { return true }
        let hosts = head.headers[canonicalForm: "host"].count
        guard hosts != 1 else { return true }
        let problem = hosts == 0 ? "Bad Request: missing required Host header" : "Bad Request"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(problem.utf8.count + 4))
        headers.add(name: "Connection", value: "close")
        let status = HTTPResponseStatus.custom(code: 400, reasonPhrase: problem)
        context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: head.version, status: status,
                                                                          headers: headers))), promise: nil)
        var body = context.channel.allocator.buffer(capacity: problem.utf8.count + 4)
        body.writeString("400 " + problem)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        return false
    }

    /// `Expect: 100-continue` (curl sends it before a body over 1 MiB, and waits a second for the answer) is
    /// answered `100 Continue` at once, as Go's server does once a handler reads the body; any other expectation
    /// gets Go's `417 Expectation Failed` and the connection closes. Returns whether the request goes on.
    func expectationMet(_ head: HTTPRequestHead, context: ChannelHandlerContext) -> Bool {
        guard head.version.major == 1, head.version.minor >= 1, let expect = head.headers.first(name: "expect") else {
            return true
        }
        guard expect.lowercased() == "100-continue" else {
            Self.answer(
                PlainHTTPResponse(status: 417, body: []), method: head.method.rawValue, version: head.version,
                keepAlive: false, context: context)
            return false
        }
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: head.version, status: .continue))),
                              promise: nil)
        return true
    }
}
