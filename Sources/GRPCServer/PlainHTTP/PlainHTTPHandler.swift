import NIOCore
import NIOHTTP1

/// Serves one HTTP/1.x connection through a ``PlainHTTPResponder``: one response per request, in order (NIOHTTP1's
/// pipeline handler holds pipelined requests back), `Date` and `Content-Length` added, `HEAD` answered without a
/// body, the connection closed after a response when the request asked for that (`Connection: close`, HTTP/1.0).
final class PlainHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: any PlainHTTPResponder
    /// The request whose head arrived and whose end has not, with its version and whether it keeps the connection.
    private var pending: (request: PlainHTTPRequest, version: HTTPVersion, keepAlive: Bool)?
    /// Set when the pending request's body outgrew ``maxBodyBytes``: it is answered 413 and the connection closed.
    private var bodyTooLarge = false

    /// The largest request body read (etcd's gateway requests are small JSON documents).
    static let maxBodyBytes = 16 << 20

    init(responder: any PlainHTTPResponder) {
        self.responder = responder
    }

    /// Adds NIOHTTP1's server pipeline (pipelining, 400 for what it cannot parse) and a handler answering through
    /// `responder`: after `handler` (the protocol sniffer), or to an empty pipeline.
    static func install(
        in pipeline: ChannelPipeline.SynchronousOperations, after handler: (any ChannelHandler)? = nil,
        responder: any PlainHTTPResponder
    ) throws {
        try pipeline.configureHTTPServerPipeline(position: handler.map { .after($0) } ?? .last, withErrorHandling: true)
        try pipeline.addHandler(PlainHTTPHandler(responder: responder))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            pending = (PlainHTTPRequest(method: head.method.rawValue, target: head.uri), head.version, head.isKeepAlive)
            bodyTooLarge = false
        case .body(var chunk):
            guard pending != nil, !bodyTooLarge else { return }
            if pending!.request.body.count + chunk.readableBytes > Self.maxBodyBytes {
                bodyTooLarge = true
                pending!.request.body = []
            } else {
                pending!.request.body += chunk.readBytes(length: chunk.readableBytes) ?? []
            }
        case .end:
            guard let (request, version, keepAlive) = pending else { return }
            pending = nil
            if bodyTooLarge {
                send(.error(413, "http: request body too large"), to: request, version: version, keepAlive: false,
                     context: context)
                return
            }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            responder.respond(to: request, on: context.eventLoop) { response in
                bound.eventLoop.execute {
                    let (handler, context) = bound.value
                    handler.send(response, to: request, version: version, keepAlive: keepAlive, context: context)
                }
            }
        }
    }

    /// A request NIOHTTP1 could not parse: its error handler has answered 400 (when no response was under way); the
    /// connection ends here.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Writes `response` to `request`, then closes the connection unless it is kept alive.
    private func send(
        _ response: PlainHTTPResponse, to request: PlainHTTPRequest, version: HTTPVersion, keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders()
        for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: name, value: value) }
        headers.add(name: "Date", value: HTTPDate.format(secondsSince1970: HTTPDate.now()))
        headers.add(name: "Content-Length", value: String(response.body.count))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status),
                                    headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if request.method != "HEAD" && !response.body.isEmpty {
            var body = context.channel.allocator.buffer(capacity: response.body.count)
            body.writeBytes(response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
