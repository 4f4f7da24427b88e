import NIOCore
import NIOHTTP1

/// Serves one HTTP/1.x connection through a ``PlainHTTPResponder``: one response per request, in order (NIOHTTP1's
/// pipeline handler holds pipelined requests back), `Date` and `Content-Length` added, `HEAD` answered without a
/// body, the connection closed after a response when the request asked for that (`Connection: close`, HTTP/1.0).
/// A request the responder answers as a stream gets its body as it arrives and writes its response part by part.
final class PlainHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: any PlainHTTPResponder
    /// The request whose head arrived and whose end has not, with its version and whether it keeps the connection
    /// (read whole, then answered).
    private var pending: (request: PlainHTTPRequest, version: HTTPVersion, keepAlive: Bool)?
    /// Set when the pending request's body outgrew ``maxBodyBytes``: it is answered 413 and the connection closed.
    private var bodyTooLarge = false
    /// The request being answered as a stream, from its head until its response ends or the connection closes.
    private var streaming: (handler: any PlainHTTPStreamHandler, response: PlainHTTPResponseStream)?
    /// Whether the streamed request's body is still arriving (its parts go to the stream handler).
    private var streamingBody = false

    /// The largest request body read whole (etcd's gateway requests are small JSON documents).
    static let maxBodyBytes = 16 << 20

    init(responder: any PlainHTTPResponder) {
        self.responder = responder
    }

    /// Adds NIOHTTP1's server pipeline (pipelining, 400 for what it cannot parse) and a handler answering through
    /// `responder`: after `handler` (the protocol sniffer), or to an empty pipeline. In front of them, NIO's
    /// `BackPressureHandler` stops reading while the socket cannot take what is written: a client that streams
    /// requests (gateway watch creates) without reading the answers is held back by TCP, as gRPC clients are by
    /// HTTP/2 flow control, instead of having its answers pile up in memory.
    static func install(
        in pipeline: ChannelPipeline.SynchronousOperations, after handler: (any ChannelHandler)? = nil,
        responder: any PlainHTTPResponder
    ) throws {
        let backPressure = BackPressureHandler()
        try pipeline.addHandler(backPressure, position: handler.map { .after($0) } ?? .last)
        try pipeline.configureHTTPServerPipeline(position: .after(backPressure), withErrorHandling: true)
        try pipeline.addHandler(PlainHTTPHandler(responder: responder))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard hostIsGiven(head, context: context), expectationMet(head, context: context) else { return }
            let request = PlainHTTPRequest(
                method: head.method.rawValue, target: head.uri, headers: head.headers.map { ($0.name, $0.value) })
            let response = PlainHTTPResponseStream(
                handler: self, context: context, method: request.method, version: head.version,
                keepAlive: head.isKeepAlive)
            if let handler = responder.streamHandler(for: request, response: response) {
                streaming = (handler, response)
                streamingBody = true
                return
            }
            pending = (request, head.version, head.isKeepAlive)
            bodyTooLarge = false
        case .body(var chunk):
            if streamingBody {
                streaming?.handler.receive(chunk.readBytes(length: chunk.readableBytes) ?? [])
                return
            }
            guard pending != nil, !bodyTooLarge else { return }
            if pending!.request.body.count + chunk.readableBytes > Self.maxBodyBytes {
                bodyTooLarge = true
                pending!.request.body = []
            } else {
                pending!.request.body += chunk.readBytes(length: chunk.readableBytes) ?? []
            }
        case .end:
            if streamingBody {
                streamingBody = false
                streaming?.handler.receiveEnd()
                return
            }
            guard let (request, version, keepAlive) = pending else { return }
            pending = nil
            if bodyTooLarge {
                Self.answer(.error(413, "http: request body too large"), method: request.method, version: version,
                            keepAlive: false, context: context)
                return
            }
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            responder.respond(to: request, on: context.eventLoop) { response in
                bound.eventLoop.execute {
                    Self.answer(response, method: request.method, version: version, keepAlive: keepAlive,
                                context: bound.value)
                }
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { streaming?.handler.becameWritable() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        endStreaming()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        endStreaming()
    }

    /// A request NIOHTTP1 could not parse: its error handler has answered 400 (when no response was under way); the
    /// connection ends here.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// The streamed response ended (its stream calls this): later requests on the connection are served as usual.
    func streamEnded() {
        streaming = nil
        streamingBody = false
    }

    /// The connection is gone with a streamed response open: its handler is cancelled.
    private func endStreaming() {
        guard let (handler, response) = streaming else { return }
        streaming = nil
        streamingBody = false
        response.connectionClosed()
        handler.cancelled()
    }

    /// Writes `response` to a request made with `method` and `version`, then closes the connection unless it is
    /// kept alive.
    static func answer(
        _ response: PlainHTTPResponse, method: String, version: HTTPVersion, keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        let written = write(response, method: method, version: version, keepAlive: keepAlive, context: context)
        if !keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Writes `response` to a request made with `method` and `version`, with `Connection: close` unless
    /// `keepAlive`. The caller closes the connection when it is not kept alive, once the returned future completes.
    static func write(
        _ response: PlainHTTPResponse, method: String, version: HTTPVersion, keepAlive: Bool,
        context: ChannelHandlerContext
    ) -> EventLoopFuture<Void> {
        var headers = HTTPHeaders()
        for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: name, value: value) }
        headers.add(name: "Date", value: HTTPDate.format(secondsSince1970: HTTPDate.now()))
        headers.add(name: "Content-Length", value: String(response.body.count))
        // What differs from the version's default, as Go's server says it: HTTP/1.1 keeps connections, 1.0 closes.
        let http11 = version.major == 1 && version.minor >= 1
        if keepAlive != http11 { headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close") }
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status),
                                    headers: headers)
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        if method != "HEAD" && !response.body.isEmpty {
            var body = context.channel.allocator.buffer(capacity: response.body.count)
            body.writeBytes(response.body)
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil)
        }
        return context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
    }
}
