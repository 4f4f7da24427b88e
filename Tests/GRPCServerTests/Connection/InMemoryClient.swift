@testable import GRPCServer
import NIOCore
import NIOEmbedded

/// A gRPC client made of a client-role nghttp2 session, wired to a `GRPCConnectionHandler` in an `EmbeddedChannel`:
/// the whole server connection runs in memory, driven by the test, with no socket.
final class InMemoryClient: NghttpSessionDelegate {
    let channel = EmbeddedChannel()
    /// Acknowledges DATA itself: as it arrives while ``reading``, later otherwise.
    let session = NghttpSession(role: .client, settings: [], acknowledgesData: true)
    /// Response header fields (HEADERS and trailers) per stream, in arrival order.
    var headers: [HTTP2StreamID: [HeaderField]] = [:]
    /// Response DATA per stream.
    var data: [HTTP2StreamID: [UInt8]] = [:]
    /// Streams that closed, with their error code.
    var closed: [HTTP2StreamID: UInt32] = [:]
    /// Payloads of the PING acknowledgements the server sent, in order.
    var pingAcknowledgements: [UInt64] = []
    /// Payloads of the PINGs the server sent itself (keepalive), in order.
    var pings: [UInt64] = []
    /// Server output not yet scanned for PING acknowledgements (an incomplete frame waits for its rest).
    private var unscanned = ByteBuffer()
    /// Request bodies still to send, and whether to end the stream after them.
    private var bodies: [HTTP2StreamID: (bytes: ByteBuffer, end: Bool)] = [:]
    /// Whether the client reads what the server sends. While false, DATA is received but not acknowledged, so the
    /// server's window for the stream closes, as with a client whose application stops reading a call.
    private(set) var reading = true
    /// DATA received while the client was not reading, by stream: acknowledged when it reads again.
    private var unacknowledged: [HTTP2StreamID: Int] = [:]

    /// `keepalive`: the server's keepalive interval and timeout; none by default.
    init(router: GRPCRouter, keepalive: (interval: TimeAmount, timeout: TimeAmount)? = nil) throws {
        session.delegate = self
        var configuration = GRPCServerConfiguration(logger: .init(label: "test"))
        configuration.keepaliveInterval = keepalive?.interval
        if let keepalive { configuration.keepaliveTimeout = keepalive.timeout }
        configuration.maxReceiveMessageLength = 1024
        configuration.outboundHighWatermark = 8 * 1024  // small, so that tests see backpressure and resumption
        configuration.outboundLowWatermark = 2 * 1024
        let handler = GRPCConnectionHandler(
            router: router, configuration: configuration, eventLoop: channel.eventLoop, onClose: {})
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try pump()
    }

    /// Starts a call; `messages` are framed and sent as its body.
    @discardableResult
    func call(_ path: String, messages: [[UInt8]], end: Bool = true, contentType: String = "application/grpc") throws
        -> HTTP2StreamID
    {
        var body = ByteBuffer()
        for message in messages { body.writeImmutableBuffer(GRPCMessageFramer.frame(message)) }
        let id = session.submitRequest(headers: [
            HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", path),
            HeaderField(":authority", "test"), HeaderField("content-type", contentType), HeaderField("te", "trailers"),
        ])
        bodies[id] = (body, end)
        session.resumeData(streamID: id)
        try pump()
        return id
    }

    func reset(_ id: HTTP2StreamID) throws {
        session.submitReset(streamID: id, errorCode: 8)
        try pump()
    }

    /// Moves bytes both ways and runs the event loop until nothing is left to do.
    func pump() throws {
        for _ in 0..<100 {
            var moved = false
            var out = ByteBuffer()
            var buffers: [ByteBuffer] = []
            _ = try session.drainOutput(into: &buffers)
            for var buffer in buffers { out.writeBuffer(&buffer) }
            if out.readableBytes > 0 {
                try channel.writeInbound(out)
                moved = true
            }
            channel.embeddedEventLoop.run()
            while var reply = try channel.readOutbound(as: ByteBuffer.self) {
                try session.receive(reply)
                unscanned.writeBuffer(&reply)
                scanForPingAcknowledgements()
                moved = true
            }
            if !moved { return }
        }
    }

    /// Stops acknowledging the server's DATA (see ``reading``).
    func stopReading() {
        reading = false
    }

    /// Acknowledges what arrived meanwhile, reads on, and moves bytes both ways until nothing is left to do.
    func resumeReading() throws {
        reading = true
        for (id, count) in unacknowledged { session.acknowledgeData(count, streamID: id) }
        unacknowledged = [:]
        try pump()
    }

    /// Request bytes of stream `id` the client has not been able to send yet (the server's window for it is shut).
    func unsentBytes(_ id: HTTP2StreamID) -> Int {
        bodies[id]?.bytes.readableBytes ?? 0
    }

    /// Sends a PING and moves bytes both ways.
    func ping(_ payload: UInt64) throws {
        session.submitPing(payload)
        try pump()
    }

    /// Reads whole frames off `unscanned`, noting PINGs (type 6) and their acknowledgements (flag ACK).
    private func scanForPingAcknowledgements() {
        while unscanned.readableBytes >= 9 {
            let length = Int(unscanned.getInteger(at: unscanned.readerIndex, as: UInt32.self)! >> 8)
            guard unscanned.readableBytes >= 9 + length else { return }
            let header = unscanned.readBytes(length: 9)!
            let payload = unscanned.readBytes(length: length)!
            if header[3] == 6, payload.count == 8 {
                let value = payload.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                if header[4] & 1 != 0 { pingAcknowledgements.append(value) } else { pings.append(value) }
            }
        }
    }

    func value(_ name: String, on id: HTTP2StreamID) -> String? {
        headers[id]?.last(where: { $0.name == name })?.value
    }

    // MARK: NghttpSessionDelegate

    func sessionBeginHeaders(streamID: HTTP2StreamID) {}
    func sessionReceivedHeader(_ field: HeaderField, streamID: HTTP2StreamID) { headers[streamID, default: []].append(field) }
    func sessionReceivedHeaders(streamID: HTTP2StreamID, endStream: Bool) {}
    func sessionReceivedData(_ bytes: ByteBuffer, streamID: HTTP2StreamID) {
        data[streamID, default: []] += Array(bytes.readableBytesView)
        if reading {
            session.acknowledgeData(bytes.readableBytes, streamID: streamID)
        } else {
            unacknowledged[streamID, default: 0] += bytes.readableBytes
        }
    }
    func sessionReceivedEndStream(streamID: HTTP2StreamID) {}
    func sessionSentHeaders(streamID: HTTP2StreamID, endStream: Bool) {}
    func sessionClosedStream(streamID: HTTP2StreamID, errorCode: UInt32) { closed[streamID] = errorCode }

    func sessionOutbound(streamID: HTTP2StreamID, maxLength: Int) -> NghttpOutbound {
        guard var body = bodies[streamID] else { return .deferred }
        let chunk = body.bytes.readSlice(length: min(maxLength, body.bytes.readableBytes))!
        if body.bytes.readableBytes == 0 {
            bodies[streamID] = nil
            return .data(chunk, end: body.end ? .endStream : nil)
        }
        bodies[streamID] = body
        return .data(chunk, end: nil)
    }
}
