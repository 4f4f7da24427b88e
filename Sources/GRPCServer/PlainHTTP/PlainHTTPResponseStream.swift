public import NIOCore
import NIOHTTP1

/// The response to a plain HTTP request answered as a stream: a `200` head at the first write (chunked on
/// HTTP/1.1; on HTTP/1.0 the body ends with the connection), then each write as it is flushed — or, before anything
/// was written, one whole ``PlainHTTPResponse`` instead (etcd's gateway answers a first request it cannot read with
/// an error). Confined to the connection's event loop; once the response ended or the connection closed, every
/// call is ignored.
public final class PlainHTTPResponseStream {
    /// The connection's event loop.
    public let eventLoop: any EventLoop
    /// The status of the streamed response (200 unless set before the first write).
    public var status = 200
    /// Headers of the response besides the framing and `Date`; changes after the first write are not sent.
    public var headers: [String: String] = [:]

    /// The connection's handler and its context while the response is open; nil once it ended or the connection
    /// closed.
    private var connection: (handler: PlainHTTPHandler, context: ChannelHandlerContext)?
    /// The request this answers: its method, HTTP version and whether the connection stays open after it.
    private let request: (method: String, version: HTTPVersion, keepAlive: Bool)
    /// Whether the head went out (from then on only body chunks and the end can follow).
    private var headSent = false

    init(handler: PlainHTTPHandler, context: ChannelHandlerContext, method: String, version: HTTPVersion,
         keepAlive: Bool) {
        eventLoop = context.eventLoop
        connection = (handler, context)
        // HTTP/1.0 has no chunks: the body runs to the connection's end.
        request = (method, version, keepAlive && (version.major, version.minor) >= (1, 1))
    }

    /// Whether the response is still open.
    public var isOpen: Bool { connection != nil }

    /// Whether the connection takes more without queueing beyond its high watermark (false once the response
    /// ended); the handler's ``PlainHTTPStreamHandler/becameWritable()`` reports when it does again.
    public var isWritable: Bool { connection?.context.channel.isWritable ?? false }

    /// Queues `bytes` as the next part of the body (the head first, at the first write).
    public func write(_ bytes: [UInt8]) {
        guard let (_, context) = connection else { return }
        sendHeadIfNeeded(context)
        guard !bytes.isEmpty else { return }  // an empty chunk would end a chunked body
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: nil)
    }

    /// Sends what was written so far.
    public func flush() {
        connection?.context.flush()
    }

    /// Ends the body; the connection then serves its next request, or closes.
    public func end() {
        guard let (_, context) = connection else { return }
        sendHeadIfNeeded(context)
        finish(context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))))
    }

    /// Answers with `response` instead of a stream (its headers win over ``headers``) — possible only before the
    /// first write; after it, the stream just ends.
    public func respond(_ response: PlainHTTPResponse) {
        guard let (_, context) = connection else { return }
        guard !headSent else { return end() }
        var response = response
        response.headers.merge(headers) { own, _ in own }
        finish(PlainHTTPHandler.write(response, method: request.method, version: request.version,
                                      keepAlive: request.keepAlive, context: context))
    }

    /// The connection closed: nothing more goes out.
    func connectionClosed() {
        connection = nil
    }

    private func sendHeadIfNeeded(_ context: ChannelHandlerContext) {
        guard !headSent else { return }
        headSent = true
        var fields = HTTPHeaders()
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { fields.add(name: name, value: value) }
        fields.add(name: "Date", value: HTTPDate.format(secondsSince1970: HTTPDate.now()))
        // HTTP/1.0 closes by default (and a streamed answer to it always ends with the connection).
        if !request.keepAlive && request.version.minor >= 1 { fields.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(
            version: request.version, status: HTTPResponseStatus(statusCode: status), headers: fields)
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
    }

    /// The response is complete once `written` is: the handler goes on with the connection's next request, or the
    /// connection closes.
    private func finish(_ written: EventLoopFuture<Void>) {
        guard let (handler, context) = connection else { return }
        connection = nil
        if !request.keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
        handler.streamEnded()
    }
}
