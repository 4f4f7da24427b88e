public import NIOCore
import Logging

/// One gRPC call: an HTTP/2 stream with its request decoder, its response queue and the handler serving it.
///
/// Confined to its connection's event loop: handlers call ``send(_:)`` and ``finish(_:)`` there (hop with
/// ``eventLoop`` from elsewhere). The connection owns its streams and drops a stream when nghttp2 closes it; the
/// stream and its handler reference each other until the call ends, when the stream lets the handler go.
public final class GRPCServerStream: GRPCResponseWriter {
    /// The HTTP/2 stream this call runs on.
    public let id: HTTP2StreamID
    /// The connection that owns this stream and outlives it.
    unowned let connection: GRPCConnectionHandler

    /// Where the call is in its life; all sends go through it.
    private(set) var state = GRPCStreamStateMachine()
    /// Header fields of the request, collected until the HEADERS block completes.
    private var requestHeaders: [HeaderField] = []
    /// Splits the request body into messages; set once the call starts.
    private var decoder: GRPCMessageDecoder?
    /// Framed responses and trailers waiting for nghttp2.
    private var outbound: OutboundQueue
    /// Set while nghttp2 has parked our DATA provider because the queue was empty.
    private var dataDeferred = false
    /// How the call is served; nil before the call starts and after it ends.
    private var serving: Serving?
    /// Fires when the client's deadline passes.
    private var deadlineTask: Scheduled<Void>?
    /// Request bytes received while requests were held back (``holdsRequests``) and not yet acknowledged to the
    /// client: its window for this stream stays that much smaller until the call takes them.
    private var heldRequestBytes = 0
    /// Set when the client ended its side while requests were held back: the end reaches the handler after them.
    private var endHeld = false
    /// Set when the call started; nil for a rejected request.
    public private(set) var context: GRPCCallContext?

    /// The two ways a call is served.
    private enum Serving {
        /// A unary call: the handler runs on the first message; `started` records that it ran.
        case unary(GRPCRouter.UnaryHandler, started: Bool)
        case streaming(any GRPCStreamHandler)
    }

    init(id: HTTP2StreamID, connection: GRPCConnectionHandler, configuration: GRPCServerConfiguration) {
        self.id = id
        self.connection = connection
        self.outbound = OutboundQueue(
            highWatermark: configuration.outboundHighWatermark, lowWatermark: configuration.outboundLowWatermark)
    }

    // MARK: For handlers

    /// The event loop this call runs on.
    public var eventLoop: any EventLoop { connection.eventLoop }

    /// Whether the producer may send more: false while the queue is above its high watermark (the peer is not
    /// reading fast enough) and once the call ended. The handler's `becameWritable()` reports the change back.
    public var isWritable: Bool { !outbound.isAboveHighWater && !state.isFinished }

    /// Whether the call has ended (status sent, or the stream is gone).
    public var isFinished: Bool { state.isFinished }

    /// Bytes queued for this stream and not yet handed to nghttp2.
    public var queuedBytes: Int { outbound.queuedBytes }

    /// Sends `count` response messages in one go: message `i` is `length(i)` bytes, which `body(i, &writer)`
    /// writes. For a producer with many messages at once (a revision's events for many watchers): the call's state,
    /// the connection and the flush are dealt with once rather than per message. Dropped if the call has ended.
    public func send(count: Int, length: (Int) -> Int, body: (Int, inout MessageWriter) -> Void) {
        guard count > 0 else { return }
        queueMessages { outbound, allocator in
            outbound.appendMessages(count: count, allocator: allocator, length: length, body: body)
        }
    }

    /// Sends one response message: `headLength` bytes that `body` writes, then `attachments` as they are, queued
    /// without a copy (large shared buffers, such as a catch-up batch many watchers receive). Dropped if the call
    /// has ended.
    public func send(headLength: Int, attachments: [ByteBuffer], body: (inout MessageWriter) -> Void) {
        queueMessages { outbound, allocator in
            outbound.appendMessage(headLength: headLength, attachments: attachments, allocator: allocator, body: body)
        }
    }

    /// Every send: unless the call has ended, `append` queues the messages; the response headers go first if none
    /// went yet, a deferred DATA source resumes, and a flush is scheduled.
    private func queueMessages(_ append: (inout OutboundQueue, ByteBufferAllocator) -> Void) {
        eventLoop.preconditionInEventLoop()
        let action = state.sendMessage()
        if action == .drop { return }
        let connection = self.connection
        append(&outbound, connection.allocator)
        if action == .sendHeadersAndQueue {
            connection.session.submitResponse(streamID: id, headers: Self.responseHeaders)
        } else {
            resumeIfDeferred()
        }
        connection.scheduleFlush()
    }

    /// Writes the messages sent so far (with whatever else the connection has queued) now rather than at the end
    /// of the event-loop turn: for a producer that sends many messages in one go, so that the peer can start on
    /// them while the rest are produced.
    public func flush() {
        eventLoop.preconditionInEventLoop()
        guard !state.isFinished else { return }
        connection.flushEarly()
    }

    /// Ends the call with `status` (OK or an error). Later sends and finishes are ignored.
    public func finish(_ status: GRPCStatus) {
        eventLoop.preconditionInEventLoop()
        let trailers =
            status.code == .ok && status.message.isEmpty
            ? Self.okTrailers
            : [
                HeaderField("grpc-status", String(status.code.rawValue)),
                HeaderField("grpc-message", GRPCStatusMessageEncoding.encode(status.message)),
            ]
        switch state.sendStatus() {
        case .ignore:
            return
        case .trailersOnly:
            connection.session.submitFinalHeaders(
                streamID: id,
                headers: Self.responseHeaders + trailers)
        case .queueTrailers:
            outbound.finish(trailers: trailers)
            resumeIfDeferred()
        }
        endServing()
        connection.scheduleFlush()
    }

    /// The response headers of every call that answers with messages.
    private static let responseHeaders = [
        HeaderField(":status", "200"), HeaderField("content-type", "application/grpc"),
    ]
    /// The trailers of a call that ends with OK and no message, the usual end: built once.
    private static let okTrailers = [HeaderField("grpc-status", "0"), HeaderField("grpc-message", "")]

    // MARK: For the connection

    func appendRequestHeader(_ field: HeaderField) {
        // Room for a stock client's request fields at once, instead of growing one field at a time.
        if requestHeaders.capacity == 0 { requestHeaders.reserveCapacity(12) }
        requestHeaders.append(field)
    }

    /// The request's HEADERS are complete: validate, route and start the call, or reject it.
    func receivedHeaders(endStream: Bool, router: GRPCRouter, configuration: GRPCServerConfiguration, logger: Logger) {
        let fields = requestHeaders
        requestHeaders = []
        let clientWasOpen = state.client == .open
        guard state.receiveHeaders(endStream: endStream) == .start else {
            // Trailers from the client: regular fields only, and they end its side just as END_STREAM on DATA
            // would; anything else is malformed (RFC 9113 §8.1).
            guard endStream, HeaderBlockRules.isWellFormedTrailer(fields) else {
                resetMalformed()
                return
            }
            if clientWasOpen && !state.isFinished { endOfRequests() }
            return
        }
        switch RequestHeadValidator.validate(fields) {
        case .malformed:
            resetMalformed()
        case .rejectHTTP(let httpStatus, let status):
            _ = state.sendStatus()
            connection.session.submitFinalHeaders(
                streamID: id,
                headers: [
                    HeaderField(":status", String(httpStatus)), HeaderField("content-type", "application/grpc"),
                    HeaderField("grpc-status", String(status.code.rawValue)),
                    HeaderField("grpc-message", GRPCStatusMessageEncoding.encode(status.message)),
                ])
            connection.scheduleFlush()
        case .rejectGRPC(let status):
            finish(status)
        case .accept(let head):
            start(head, endStream: endStream, router: router, configuration: configuration, logger: logger)
        }
    }

    private func start(
        _ head: GRPCRequestHead, endStream: Bool, router: GRPCRouter, configuration: GRPCServerConfiguration,
        logger: Logger
    ) {
        decoder = GRPCMessageDecoder(maxMessageLength: configuration.maxReceiveMessageLength, encoding: head.encoding)
        let deadline = head.timeout.map { NIODeadline.now() + .nanoseconds($0.nanoseconds) }
        context = GRPCCallContext(
            head: head, deadline: deadline, eventLoop: eventLoop, connectionLogger: logger, streamID: id)

        switch router.route(head) {
        case .failure(let status):
            finish(status)
            return
        case .success(.unary(let handler)):
            serving = .unary(handler, started: false)
        case .success(.streaming(let factory)):
            serving = .streaming(factory(self))
        }
        if let deadline {
            deadlineTask = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
                self?.deadlineExpired()
            }
        }
        // HEADERS carried END_STREAM: the state machine already closed the client side.
        if endStream { clientEnded() }
    }

    func receivedData(_ bytes: ByteBuffer) {
        guard state.receiveData() == .deliver, decoder != nil else {
            connection.session.acknowledgeData(bytes.readableBytes, streamID: id)
            return
        }
        decoder!.append(bytes)
        if holdsRequests {
            heldRequestBytes += bytes.readableBytes
            return
        }
        connection.session.acknowledgeData(bytes.readableBytes, streamID: id)
        deliverRequests()
    }

    /// Whether requests wait instead of reaching the handler: a streaming call whose responses are above the queue's
    /// high watermark (the client is not reading them). Its requests, and with them the responses they would add
    /// (a watch's created response, a keep-alive's answer), wait until the queue drains; the bytes are not
    /// acknowledged meanwhile, so the client's window for the stream closes and HTTP/2 flow control stops it — as
    /// etcd's receive loop stops reading while its send queue is full.
    private var holdsRequests: Bool {
        guard case .streaming = serving else { return false }
        return outbound.isAboveHighWater
    }

    /// Hands the handler every complete request the decoder holds, stopping if requests are to be held back.
    private func deliverRequests() {
        do {
            while !state.isFinished, !holdsRequests, let message = try decoder?.next() {
                deliver(message)
            }
        } catch {
            abort(with: error)
        }
    }

    /// The queue drained after requests were held back: the waiting ones go to the handler, then their bytes are
    /// acknowledged, then a held end of the client's side follows them.
    private func releaseHeldRequests() {
        guard !holdsRequests else { return }
        if decoder?.hasPartialMessage == true { deliverRequests() }
        guard !holdsRequests else { return }
        if heldRequestBytes > 0 {
            connection.session.acknowledgeData(heldRequestBytes, streamID: id)
            heldRequestBytes = 0
            connection.scheduleFlush()
        }
        if endHeld && !state.isFinished {
            endHeld = false
            clientEnded()
        }
    }

    func receivedEndStream() {
        guard state.receiveEndStream() else { return }
        endOfRequests()
    }

    /// The client ended its side: the handler hears of it after the requests still held back, if any.
    private func endOfRequests() {
        if holdsRequests && decoder?.hasPartialMessage == true {
            endHeld = true
        } else {
            clientEnded()
        }
    }

    /// The client will send no more messages (END_STREAM on DATA, or on the request HEADERS themselves).
    private func clientEnded() {
        if decoder?.hasPartialMessage == true {
            abort(with: GRPCStatus(.internal, "grpc: request ended in the middle of a message"))
            return
        }
        switch serving {
        case .unary(_, let started) where !started:
            finish(GRPCStatus(.internal, "grpc: server received no request message for unary RPC"))
        case .streaming(let handler):
            handler.receiveEnd()
        default:
            break
        }
    }

    private func deliver(_ message: [UInt8]) {
        switch serving {
        case .unary(let handler, let started):
            // grpc-go (which etcd runs on) reads one request message and ignores anything after it.
            guard !started else { return }
            serving = .unary(handler, started: true)
            handler(message, context!, UnaryResponder(stream: NIOLoopBound(self, eventLoop: eventLoop), eventLoop: eventLoop))
        case .streaming(let handler):
            handler.receive(message)
        case nil:
            break
        }
    }

    /// Completion of a unary call by its responder.
    func completeUnary(_ result: Result<[UInt8], GRPCStatus>) {
        switch result {
        case .success(let response):
            send(response)
            finish(.ok)
        case .failure(let status):
            finish(status)
        }
    }

    /// Ends a running call with an error the server detected: the handler is cancelled first.
    public func abort(with status: GRPCStatus) {
        let serving = self.serving
        self.serving = nil
        if case .streaming(let handler) = serving { handler.cancelled() }
        finish(status)
    }

    private func deadlineExpired() {
        guard !state.isFinished else { return }
        abort(with: GRPCStatus(.deadlineExceeded, "context deadline exceeded"))
    }

    /// Server shutdown: streaming calls end with `status`; unary calls are left to finish.
    func shutDown(with status: GRPCStatus) {
        if case .streaming = serving { abort(with: status) }
    }

    /// nghttp2 wants up to `maxLength` bytes of DATA.
    func pullOutbound(maxLength: Int) -> NghttpOutbound {
        guard let pull = outbound.pull(maxLength: maxLength, allocator: connection.allocator) else {
            dataDeferred = true
            return .deferred
        }
        if pull.becameWritable { connection.streamBecameWritable(self) }
        return .data(pull.bytes, end: pull.trailers.map { .trailers($0) })
    }

    /// Tells the handler that the queue drained (called by the connection after the flush that drained it); requests
    /// held back meanwhile reach it first.
    func notifyWritable() {
        releaseHeldRequests()
        if case .streaming(let handler) = serving, isWritable { handler.becameWritable() }
    }

    /// Our final HEADERS went out; if the client still sends, ask it to stop (RST_STREAM NO_ERROR).
    func sentFinalHeaders(clientStillOpen: Bool) {
        if state.needsResetAfterFinalHeaders(clientStillOpen: clientStillOpen) {
            connection.session.submitReset(streamID: id, errorCode: 0)
        }
    }

    /// nghttp2 closed the stream: cancel a handler that was still running and release everything.
    func closed() {
        if state.streamClosed(), case .streaming(let handler) = serving {
            handler.cancelled()
        }
        serving = nil
        outbound.removeAll()
        deadlineTask?.cancel()
        deadlineTask = nil
        decoder = nil
    }

    /// The client sent a malformed header block: the call ends without a status, by RST_STREAM(PROTOCOL_ERROR),
    /// and a running handler is cancelled (as when the client resets the stream).
    private func resetMalformed() {
        let serving = self.serving
        endServing()
        if case .streaming(let handler) = serving { handler.cancelled() }
        _ = state.sendStatus()  // nothing more goes out on this stream
        outbound.removeAll()
        connection.session.submitReset(streamID: id, errorCode: Self.protocolError)
        connection.scheduleFlush()
    }

    /// HTTP/2's PROTOCOL_ERROR code (RFC 9113 §7).
    private static let protocolError: UInt32 = 0x1

    private func endServing() {
        serving = nil
        deadlineTask?.cancel()
        deadlineTask = nil
    }

    private func resumeIfDeferred() {
        if dataDeferred {
            dataDeferred = false
            connection.session.resumeData(streamID: id)
        }
    }
}
