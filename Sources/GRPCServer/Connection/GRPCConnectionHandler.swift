import Logging
public import NIOCore

/// Serves gRPC on one accepted TCP connection (h2c with prior knowledge): bytes from the socket go to an
/// ``NghttpSession``; its events create, feed and close ``GRPCServerStream``s; its output goes back to the socket.
///
/// Output is batched: every frame nghttp2 has ready is collected into one buffer and written with one flush per
/// event-loop turn, from a task scheduled at `channelReadComplete` or by the first send of a turn, at most
/// ``GRPCServerConfiguration/maxWriteBatchBytes`` at a time. While the socket is not writable nothing more is pulled
/// from nghttp2, so a peer that stops reading pushes back on the streams' queues and from there on their producers.
///
/// Confined to its channel's event loop, like every NIO handler; streams reach it through `unowned` references.
public final class GRPCConnectionHandler: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// The nghttp2 session; created in `handlerAdded`, closed when the channel goes inactive.
    private(set) var session: NghttpSession!
    /// The live streams of this connection. Owned here; removed when nghttp2 closes a stream.
    private var streams: [HTTP2StreamID: GRPCServerStream] = [:]
    /// The stream whose header block is being received (nghttp2 delivers a block's fields one after another,
    /// between its begin and end callbacks), so each field reaches it without a lookup in `streams`.
    private var headerBlockStream: GRPCServerStream?
    /// The array `flushNow` collects a write's buffers in, kept between flushes so that a flush allocates none.
    private var outputScratch: [ByteBuffer] = []
    /// Streams whose outbound queue drained during the current flush; told after it.
    private var drainedStreams: [GRPCServerStream] = []

    private let router: GRPCRouter
    private let configuration: GRPCServerConfiguration
    private var logger: Logger

    /// Set between `handlerAdded` and `handlerRemoved`.
    private var context: ChannelHandlerContext?
    /// The channel's event loop; every method runs on it.
    public let eventLoop: any EventLoop
    /// The channel's allocator, for response buffers.
    private(set) var allocator = ByteBufferAllocator()

    /// True while `channelRead` runs: the flush then waits for `channelReadComplete`.
    private var reading = false
    /// True while a flush task is scheduled for this turn.
    private var flushScheduled = false
    /// Set while `flushNow` runs, so that a producer it wakes cannot start a flush inside it (its bytes would
    /// overtake the ones this flush already collected).
    private var flushing = false
    /// True once a graceful shutdown began (GOAWAY sent): the channel closes when nghttp2 has nothing left to do.
    private var draining = false
    /// Called once when the channel is gone, so the server can forget the connection.
    private let onClose: @Sendable () -> Void

    init(
        router: GRPCRouter, configuration: GRPCServerConfiguration, eventLoop: any EventLoop,
        onClose: @escaping @Sendable () -> Void
    ) {
        self.router = router
        self.configuration = configuration
        self.logger = configuration.logger
        self.eventLoop = eventLoop
        self.onClose = onClose
    }

    // MARK: Channel events

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        allocator = context.channel.allocator
        if let remote = context.channel.remoteAddress {
            logger[metadataKey: "peer"] = "\(remote)"
        }
        let session = NghttpSession(
            role: .server,
            settings: [(.maxConcurrentStreams, configuration.maxConcurrentStreams), (.maxFrameSize, 16384)])
        session.delegate = self
        self.session = session
        if context.channel.isActive {
            flushNow()
            startKeepalive()
        }
    }

    public func channelActive(context: ChannelHandlerContext) {
        flushNow()
        startKeepalive()
        context.fireChannelActive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        tearDown()
        self.context = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        keepalive?.heard(at: eventLoop.now)
        reading = true
        defer { reading = false }
        do {
            try session.receive(bytes)
        } catch {
            logger.debug("closing connection after HTTP/2 protocol error", metadata: ["error": "\(error)"])
            flushNow()
            context.close(promise: nil)
        }
    }

    /// The flush runs as a task, after the tasks queued while the read was handled: a write received in this read
    /// leads its sync from such a task (the store's group commit), so its reply leaves in the same write as
    /// the frames nghttp2 queued for the read itself (SETTINGS and PING acknowledgements, window updates) — one
    /// socket write, and one wake-up of the peer, per request instead of two.
    public func channelReadComplete(context: ChannelHandlerContext) {
        scheduleFlush()
        context.fireChannelReadComplete()
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { flushNow() }
        context.fireChannelWritabilityChanged()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        tearDown()
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// Cancels every stream (nghttp2 does not report stream closes when the session is deleted) and frees the session.
    private func tearDown() {
        keepaliveTimer?.cancel()
        keepaliveTimer = nil
        keepalive = nil
        guard let session else { return }
        let open = streams
        streams.removeAll()
        headerBlockStream = nil
        for stream in open.values { stream.closed() }
        session.close()
        self.session = nil
        onClose()
    }

    // MARK: Output

    /// Asks for a flush at the end of this event-loop turn (or of the read in progress).
    func scheduleFlush() {
        guard !reading, !flushScheduled else { return }
        flushScheduled = true
        eventLoop.assumeIsolated().execute { [self] in
            flushScheduled = false
            flushNow()
        }
    }

    /// Writes what is queued now instead of at the end of the event-loop turn, unless a read is in progress (its
    /// end flushes) or a flush is (a producer it woke asks from inside it; it takes their output in its own write).
    /// For a producer that queues many messages in one turn: the peer starts on the first ones while the rest are
    /// produced. The flush already scheduled then finds less or nothing to do.
    func flushEarly() {
        guard !reading, !flushing, flushScheduled else { return }
        flushNow()
    }

    /// Collects what nghttp2 has to send and writes it with one flush (large DATA payloads as the streams' own
    /// buffers, gathered by the socket write). PING acknowledgements go out with other output, or once they have
    /// waited ``pingAcknowledgementDelay`` (see ``holdPingAcknowledgements``).
    private func flushNow() {
        guard let context, let session, context.channel.isActive else { return }
        flushing = true
        defer { flushing = false }
        var buffers = outputScratch
        outputScratch = []
        defer {
            buffers.removeAll(keepingCapacity: true)
            outputScratch = buffers
        }
        var total = 0
        var more = false
        do {
            while true {
                let drained = try session.drainOutput(into: &buffers, limit: configuration.maxWriteBatchBytes - total)
                total += drained.bytes
                more = drained.more
                let drainedStreams = self.drainedStreams
                self.drainedStreams.removeAll()
                for stream in drainedStreams { stream.notifyWritable() }
                // A producer woken above may have queued more; take it in this same write while room remains.
                if drainedStreams.isEmpty || more { break }
            }
            // Left unacknowledged only when nothing else went out (draining sends them along with any output).
            if !session.unacknowledgedPings.isEmpty {
                if pingAcknowledgementsDue || session.unacknowledgedPings.count >= 16 {
                    try session.acknowledgePings()
                    total += try session.drainOutput(into: &buffers).bytes
                } else {
                    holdPingAcknowledgements()
                }
            }
            pingAcknowledgementsDue = false
        } catch {
            logger.debug("HTTP/2 session failed while sending", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        if !buffers.isEmpty {
            for buffer in buffers { context.write(wrapOutboundOut(buffer), promise: nil) }
            context.flush()
        }
        if more && context.channel.isWritable {
            scheduleFlush()
        }
        if session.isFinished {
            context.close(promise: nil)
        }
    }

    /// How long a PING acknowledgement may wait for other output to travel with. grpc-go clients send a PING
    /// (their bandwidth probe) with nearly every response they receive, just before their next request: held, the
    /// acknowledgement goes out with that request's reply, one socket write instead of two, and the client, whose
    /// probe is still unanswered, sends no new one meanwhile. Far below any keepalive timeout (seconds).
    static let pingAcknowledgementDelay = TimeAmount.milliseconds(20)

    /// Set when held acknowledgements have waited long enough: the next flush sends them whatever else it has.
    private var pingAcknowledgementsDue = false
    /// The timer that ends the wait, while one is pending.
    private var pingAcknowledgementTimer: Scheduled<Void>?

    /// Nothing else to write: the acknowledgements wait for other output, at most ``pingAcknowledgementDelay``.
    private func holdPingAcknowledgements() {
        guard pingAcknowledgementTimer == nil else { return }
        pingAcknowledgementTimer = eventLoop.assumeIsolated().scheduleTask(in: Self.pingAcknowledgementDelay) {
            [self] in
            pingAcknowledgementTimer = nil
            guard let session, !session.unacknowledgedPings.isEmpty else { return }
            pingAcknowledgementsDue = true
            flushNow()
        }
    }

    /// A stream's queue fell to its low watermark while nghttp2 pulled from it.
    func streamBecameWritable(_ stream: GRPCServerStream) {
        drainedStreams.append(stream)
    }

    // MARK: Keepalive

    /// When the peer is pinged and given up on; nil when the configuration turns keepalive off, or once the
    /// connection is torn down.
    private var keepalive: ServerKeepalive?
    /// The timer that asks ``keepalive`` what to do next.
    private var keepaliveTimer: Scheduled<Void>?
    /// Keepalive PINGs sent, the payload of the last (not checked on return: anything heard counts as life).
    private var keepalivePings: UInt64 = 0

    /// Starts the keepalive timer once the connection is up, if the configuration asks for keepalive.
    private func startKeepalive() {
        guard keepalive == nil, keepaliveTimer == nil, let interval = configuration.keepaliveInterval else { return }
        let state = ServerKeepalive(interval: interval, timeout: configuration.keepaliveTimeout, now: eventLoop.now)
        keepalive = state
        scheduleKeepalive(at: state.firstDue)
    }

    private func scheduleKeepalive(at deadline: NIODeadline) {
        keepaliveTimer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            keepaliveTimer = nil
            keepaliveDue()
        }
    }

    /// The keepalive timer fired: wait on, ping the idle peer, or close the connection of a peer that is gone.
    private func keepaliveDue() {
        guard var state = keepalive, let context else { return }
        let step = state.due(at: eventLoop.now)
        keepalive = state
        switch step {
        case .wait(let deadline):
            scheduleKeepalive(at: deadline)
        case .ping(let deadline):
            keepalivePings += 1
            session.submitPing(keepalivePings)
            flushNow()
            scheduleKeepalive(at: deadline)
        case .close:
            logger.info(
                "closing a connection whose peer did not answer a keepalive ping",
                metadata: ["timeout_s": "\(state.timeout.nanoseconds / 1_000_000_000)"])
            context.close(promise: nil)
        }
    }

    // MARK: Shutdown

    /// Begins a graceful shutdown: GOAWAY, streaming calls end with the configured status, unary calls finish.
    /// The channel closes once nghttp2 has no open streams and nothing to write.
    func beginGracefulShutdown() {
        guard let session, !draining else { return }
        draining = true
        session.submitGoAway()
        for stream in streams.values { stream.shutDown(with: configuration.shutdownStatus) }
        flushNow()
    }

    /// Closes the connection now (the grace period ran out).
    func closeNow() {
        context?.close(promise: nil)
    }
}

extension GRPCConnectionHandler: NghttpSessionDelegate {
    func sessionBeginHeaders(streamID: HTTP2StreamID) {
        if let stream = streams[streamID] {
            headerBlockStream = stream
        } else {
            let stream = GRPCServerStream(id: streamID, connection: self, configuration: configuration)
            streams[streamID] = stream
            headerBlockStream = stream
        }
    }

    func sessionReceivedHeader(_ field: HeaderField, streamID: HTTP2StreamID) {
        if let stream = headerBlockStream, stream.id == streamID {
            stream.appendRequestHeader(field)
        } else {
            streams[streamID]?.appendRequestHeader(field)
        }
    }

    func sessionReceivedHeaders(streamID: HTTP2StreamID, endStream: Bool) {
        headerBlockStream = nil
        streams[streamID]?.receivedHeaders(
            endStream: endStream, router: router, configuration: configuration, logger: logger)
    }

    func sessionReceivedData(_ bytes: ByteBuffer, streamID: HTTP2StreamID) {
        if let stream = streams[streamID] {
            stream.receivedData(bytes)
        } else {
            session.acknowledgeData(bytes.readableBytes, streamID: streamID)
        }
    }

    func sessionReceivedEndStream(streamID: HTTP2StreamID) {
        streams[streamID]?.receivedEndStream()
    }

    func sessionSentHeaders(streamID: HTTP2StreamID, endStream: Bool) {
        guard endStream, let stream = streams[streamID] else { return }
        stream.sentFinalHeaders(clientStillOpen: !session.isRemoteClosed(streamID: streamID))
    }

    func sessionClosedStream(streamID: HTTP2StreamID, errorCode: UInt32) {
        if headerBlockStream?.id == streamID { headerBlockStream = nil }
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        stream.closed()
    }

    func sessionOutbound(streamID: HTTP2StreamID, maxLength: Int) -> NghttpOutbound {
        guard let stream = streams[streamID] else { return .deferred }
        return stream.pullOutbound(maxLength: maxLength)
    }
}
