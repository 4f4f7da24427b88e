public import NIOCore

/// Answers plain HTTP/1.1 requests that arrive on the gRPC port, as etcd answers `/health`, `/version`, `/metrics`
/// and its JSON gateway on its client port next to gRPC. The server calls it on the connection's event loop, once
/// per request.
public protocol PlainHTTPResponder: Sendable {
    /// Answers a request whose body has been read whole: calls `reply` once, at once or later from any thread, and
    /// must not block the loop meanwhile.
    func respond(
        to request: PlainHTTPRequest, on eventLoop: any EventLoop, reply: @escaping @Sendable (PlainHTTPResponse) -> Void)

    /// A handler that answers `request` as a stream (etcd's gateway Watch: requests read from the body as they
    /// arrive, responses written as they happen), or nil to have the body read whole and
    /// ``respond(to:on:reply:)`` called. Called when the request's head has arrived (its `body` is empty); the
    /// handler answers through `response`.
    func streamHandler(for request: PlainHTTPRequest, response: PlainHTTPResponseStream) -> (any PlainHTTPStreamHandler)?
}

extension PlainHTTPResponder {
    /// No request is answered as a stream.
    public func streamHandler(
        for request: PlainHTTPRequest, response: PlainHTTPResponseStream
    ) -> (any PlainHTTPStreamHandler)? {
        nil
    }
}
