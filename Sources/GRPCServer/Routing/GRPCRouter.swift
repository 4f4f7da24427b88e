public import Logging
public import NIOCore

/// Maps gRPC method paths (`/package.Service/Method`) to handlers.
///
/// Built once at start-up and shared, read-only, by every connection.
public struct GRPCRouter: Sendable {
    /// Serves a unary call: called on the call's event loop with the single request message. It must eventually
    /// call the responder, at once or later from any thread.
    public typealias UnaryHandler = @Sendable (_ request: [UInt8], _ context: GRPCCallContext, _ responder: UnaryResponder) -> Void

    /// Creates the handler of a streaming call (client-, server- or bidirectional streaming alike), answering
    /// through `stream`: the call's HTTP/2 stream, or a JSON gateway's HTTP/1.1 response.
    public typealias StreamHandlerFactory = @Sendable (_ stream: any GRPCResponseWriter) -> any GRPCStreamHandler

    /// How a method is served.
    public enum Method: Sendable {
        case unary(UnaryHandler)
        case streaming(StreamHandlerFactory)
    }

    /// Methods by full path.
    private var methods: [String: Method] = [:]
    /// Service names that have at least one method, to tell "unknown service" from "unknown method".
    private var services: Set<String> = []

    public init() {}

    public mutating func registerUnary(service: String, method: String, _ handler: @escaping UnaryHandler) {
        register(service: service, method: method, .unary(handler))
    }

    public mutating func registerStreaming(
        service: String, method: String, _ factory: @escaping StreamHandlerFactory
    ) {
        register(service: service, method: method, .streaming(factory))
    }

    private mutating func register(service: String, method: String, _ entry: Method) {
        let path = "/\(service)/\(method)"
        precondition(methods[path] == nil, "\(path) registered twice")
        methods[path] = entry
        services.insert(service)
    }

    /// The method for a request, or the `UNIMPLEMENTED` status grpc-go would answer.
    public func route(_ head: GRPCRequestHead) -> Result<Method, GRPCStatus> {
        if let method = methods[head.path] { return .success(method) }
        if services.contains(head.service) {
            return .failure(GRPCStatus(.unimplemented, "unknown method \(head.method) for service \(head.service)"))
        }
        return .failure(GRPCStatus(.unimplemented, "unknown service \(head.service)"))
    }

    /// Calls the unary method at `path` (`/etcdserverpb.KV/Range`) without an HTTP/2 stream, as a JSON gateway
    /// serving the same methods over HTTP/1.1 does: `reply` gets the response message or the status
    /// (`UNIMPLEMENTED` for a path that is not a unary method), once, from any thread.
    public func callUnary(
        path: String, request: [UInt8], eventLoop: any EventLoop, logger: Logger,
        reply: @escaping @Sendable (Result<[UInt8], GRPCStatus>) -> Void
    ) {
        let head = Self.head(path: path)
        switch route(head) {
        case .success(.unary(let handler)):
            let context = GRPCCallContext(
                head: head, deadline: nil, eventLoop: eventLoop, connectionLogger: logger, streamID: HTTP2StreamID(0))
            handler(request, context, UnaryResponder(callback: reply))
        case .success(.streaming):
            reply(.failure(GRPCStatus(.unimplemented, "\(path) is a streaming method")))
        case .failure(let status):
            reply(.failure(status))
        }
    }

    /// Starts the streaming method at `path` without an HTTP/2 stream, as a JSON gateway serving it over HTTP/1.1
    /// does: the handler answers through `writer`, and the caller feeds it the request messages. `UNIMPLEMENTED`
    /// for a path that is not a streaming method.
    public func openStream(path: String, writer: any GRPCResponseWriter) -> Result<any GRPCStreamHandler, GRPCStatus> {
        switch route(Self.head(path: path)) {
        case .success(.streaming(let factory)):
            .success(factory(writer))
        case .success(.unary):
            .failure(GRPCStatus(.unimplemented, "\(path) is a unary method"))
        case .failure(let status):
            .failure(status)
        }
    }

    /// The request head of a call made without HTTP/2 (no deadline, encoding or metadata).
    private static func head(path: String) -> GRPCRequestHead {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return GRPCRequestHead(
            path: path, service: parts.first.map(String.init) ?? "", method: parts.dropFirst().first.map(String.init) ?? "",
            timeout: nil, encoding: nil, metadata: [])
    }

    /// Every registered path, sorted; for logs and tests.
    public var paths: [String] { methods.keys.sorted() }
}
