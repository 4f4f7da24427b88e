internal import CNghttp2
import NIOCore

/// Owns one `nghttp2_session` and is the only Swift type (with its `+Callbacks` file) that touches it.
///
/// Shaped like NIO's `BetterHTTPParser`: the session's `user_data` is an unretained pointer to `self`, valid because
/// `self` owns the session and deletes it in `deinit`; C callbacks recover `self` and forward to the
/// ``NghttpSessionDelegate`` with Swift values (bytes are copied out before a callback returns).
///
/// Not thread-safe: the owner (a connection handler) confines it to one event loop.
final class NghttpSession {
    /// Which end of the connection this session plays.
    enum Role {
        case server
        /// Used by tests to drive a server in memory, without sockets.
        case client
    }

    /// The SETTINGS a session may send first.
    enum Setting {
        case maxConcurrentStreams
        case maxFrameSize

        var id: Int32 {
            switch self {
            case .maxConcurrentStreams: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue)
            case .maxFrameSize: Int32(NGHTTP2_SETTINGS_MAX_FRAME_SIZE.rawValue)
            }
        }
    }

    /// The C session; nil only after ``close()``.
    private var session: OpaquePointer?

    /// Receives decoded events. Unowned: the delegate owns the session, and outlives it. Not weak on purpose: a weak
    /// reference gives the delegate (the connection handler) a side table, which sends every retain and release
    /// of it, one per outbound message, through the runtime's slow path.
    unowned var delegate: (any NghttpSessionDelegate)?

    /// True while `mem_recv` runs, to catch re-entrant calls.
    private var receiving = false

    /// DATA payloads nghttp2 framed without copying them (`NGHTTP2_DATA_FLAG_NO_COPY`), by stream: put by the read
    /// callback, taken by the send-data callback when nghttp2 sends that frame, dropped if the stream closes first.
    var noCopyPayloads: [Int32: ByteBuffer] = [:]
    /// What ``drainOutput(into:limit:)`` collects, in order: frame bytes nghttp2 serialised, and small DATA
    /// payloads, are written into `collecting`; a large DATA payload ends it and goes in as a buffer of its own,
    /// uncopied.
    private var collected: [ByteBuffer] = []
    /// Created on first use with room for a typical write's frames (a reply: HEADERS, DATA, trailers), not grown
    /// from nothing one doubling at a time.
    private var collecting: ByteBuffer?
    private var collectedBytes = 0
    /// Payloads of PINGs received and not yet acknowledged (server only: nghttp2's automatic acknowledgement is
    /// off, so the owner can send the acknowledgement with its next write instead of in a write of its own).
    private(set) var unacknowledgedPings: [UInt64] = []
    /// Whether PINGs are acknowledged by ``acknowledgePings()`` rather than by nghttp2 (the server role).
    private let acknowledgesPings: Bool
    /// Whether received DATA is acknowledged by the owner, stream by stream (``acknowledgeData(_:streamID:)``),
    /// rather than by nghttp2 as it arrives (the server role). The connection's window is still acknowledged as DATA
    /// arrives, so one stream that holds back never stalls the others; a stream's own window only as its call takes
    /// the bytes, so a client that keeps sending requests on a call whose responses it does not read is stopped by
    /// HTTP/2 flow control, as grpc-go's is when etcd's receive loop blocks.
    let acknowledgesData: Bool

    /// Creates a session. For a server, the connection preface (SETTINGS) is queued at once.
    ///
    /// - Parameters:
    ///   - role: server or client.
    ///   - settings: SETTINGS sent first, with their values.
    ///   - acknowledgesData: whether the owner acknowledges DATA stream by stream (``acknowledgesData``); by default
    ///     a server does and a client leaves it to nghttp2.
    init(role: Role, settings: [(setting: Setting, value: UInt32)], acknowledgesData: Bool? = nil) {
        acknowledgesPings = role == .server
        self.acknowledgesData = acknowledgesData ?? (role == .server)
        var callbacks: OpaquePointer?
        precondition(nghttp2_session_callbacks_new(&callbacks) == 0, "nghttp2 out of memory")
        defer { nghttp2_session_callbacks_del(callbacks) }
        NghttpSession.installCallbacks(callbacks)

        var option: OpaquePointer?
        precondition(nghttp2_option_new(&option) == 0, "nghttp2 out of memory")
        defer { nghttp2_option_del(option) }
        // gRPC peers may send MAX_CONCURRENT_STREAMS=0 (grpcio); it only forbids push, which a server never does.
        nghttp2_option_set_peer_max_concurrent_streams(option, UInt32.max)
        // A server acknowledges PINGs itself (``acknowledgePings()``), so that a peer's PING, which grpc-go sends
        // with nearly every response it receives, need not cost a socket write of its own.
        if acknowledgesPings { nghttp2_option_set_no_auto_ping_ack(option, 1) }
        // A server acknowledges DATA itself (``acknowledgesData``); nghttp2 still acknowledges padding and DATA of
        // streams it ignores.
        if self.acknowledgesData { nghttp2_option_set_no_auto_window_update(option, 1) }
        // Header blocks are checked by ``HeaderBlockRules`` instead: nghttp2's checks also refuse an `:authority`
        // that is a URL, which etcd's Go client sends when it dials one member (and grpc-go accepts).
        nghttp2_option_set_no_http_messaging(option, 1)

        let userData = Unmanaged.passUnretained(self).toOpaque()
        let result: Int32
        switch role {
        case .server: result = nghttp2_session_server_new2(&session, callbacks, userData, option)
        case .client: result = nghttp2_session_client_new2(&session, callbacks, userData, option)
        }
        precondition(result == 0 && session != nil, "nghttp2_session_new failed: \(result)")

        let entries = settings.map { nghttp2_settings_entry(settings_id: $0.setting.id, value: $0.value) }
        entries.withUnsafeBufferPointer { buffer in
            _ = nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), buffer.baseAddress, buffer.count)
        }
    }

    deinit {
        if let session { nghttp2_session_del(session) }
    }

    /// Deletes the C session now. Later calls are no-ops. nghttp2 does not report stream closes from here: the owner
    /// must have cancelled its streams itself.
    func close() {
        if let session { nghttp2_session_del(session) }
        session = nil
    }

    // MARK: Input and output

    /// Feeds bytes read from the socket. Delegate callbacks run before this returns.
    ///
    /// - Throws: ``NghttpSessionError`` when the peer broke the protocol badly enough that the connection must end
    ///   (nghttp2 has then queued a GOAWAY: drain output before closing).
    func receive(_ bytes: ByteBuffer) throws(NghttpSessionError) {
        guard let session else { return }
        precondition(!receiving, "NghttpSession.receive re-entered")
        receiving = true
        defer { receiving = false }
        let result = bytes.withUnsafeReadableBytes { raw -> Int in
            guard raw.count > 0 else { return 0 }
            return nghttp2_session_mem_recv(session, raw.bindMemory(to: UInt8.self).baseAddress, raw.count)
        }
        if result < 0 { throw NghttpSession.error(Int32(result)) }
    }

    /// Collects every frame nghttp2 wants to send, in order, stopping once at least `limit` bytes are collected,
    /// and appends them to `buffers`. When there is anything to send, acknowledgements of the PINGs received so far
    /// are sent with it. Large DATA payloads come as the streams' own buffers (slices of their outbound queues), not
    /// copies.
    ///
    /// - Returns: the bytes appended, and whether nghttp2 may have more to send (the limit was reached).
    func drainOutput(into buffers: inout [ByteBuffer], limit: Int = .max) throws(NghttpSessionError) -> (
        bytes: Int, more: Bool
    ) {
        guard let session else { return (0, false) }
        defer {
            // Kept, with its capacity, for the next drain: a flush allocates no array.
            collected.removeAll(keepingCapacity: true)
            collectedBytes = 0
        }
        var more = true
        while collectedBytes < limit {
            var chunk: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &chunk)
            if count < 0 { throw NghttpSession.error(Int32(count)) }
            if count == 0 {
                more = false
                break
            }
            collect(UnsafeRawBufferPointer(start: chunk, count: count))
            // Something goes out: held PING acknowledgements travel with it, serialised into the same buffer.
            if !unacknowledgedPings.isEmpty { try acknowledgePings() }
        }
        sealCollecting()
        buffers += collected
        return (collectedBytes, more)
    }

    /// Appends bytes nghttp2 serialised (a frame, or a DATA frame's header).
    func collect(_ bytes: UnsafeRawBufferPointer) {
        startCollecting(atLeast: bytes.count)
        collecting!.writeBytes(bytes)
        collectedBytes += bytes.count
    }

    /// Payloads smaller than this are copied into the collecting buffer: a buffer of their own would cost the socket
    /// write more (one more gathered piece, one more allocation after it) than the copy saves.
    static let smallPayload = 4096

    /// Appends a DATA payload: large ones as their own buffer, small ones copied.
    func collect(payload: ByteBuffer) {
        collectedBytes += payload.readableBytes
        if payload.readableBytes < Self.smallPayload {
            var payload = payload
            startCollecting(atLeast: payload.readableBytes)
            collecting!.writeBuffer(&payload)
        } else {
            sealCollecting()
            collected.append(payload)
        }
    }

    /// Creates the collecting buffer if there is none: one allocation with room for a typical write's frames (a
    /// reply: HEADERS, DATA, trailers), not one per doubling.
    private func startCollecting(atLeast count: Int) {
        if collecting == nil { collecting = ByteBufferAllocator().buffer(capacity: Swift.max(count, 1024)) }
    }

    /// Ends the collecting buffer, if it holds anything: what follows goes after it.
    private func sealCollecting() {
        guard let full = collecting, full.readableBytes > 0 else { return }
        collecting = nil
        collected.append(full)
    }

    /// Sends a PING with `payload`: a server's keepalive ping, or a client's in tests.
    func submitPing(_ payload: UInt64) {
        guard let session else { return }
        _ = Self.submitPing(payload, flags: NGHTTP2_FLAG_NONE, on: session)
    }

    /// `nghttp2_submit_ping` with `payload` as its 8 opaque bytes; nghttp2's result (0, or an error code).
    private static func submitPing(_ payload: UInt64, flags: nghttp2_flag, on session: OpaquePointer) -> Int32 {
        withUnsafeBytes(of: payload) { opaque in
            nghttp2_submit_ping(session, UInt8(flags.rawValue), opaque.bindMemory(to: UInt8.self).baseAddress)
        }
    }

    /// A PING arrived (server role, automatic acknowledgement off): remembered until ``acknowledgePings()``.
    ///
    /// - Returns: false when too many wait (a PING flood): the session must end, as nghttp2 ends it when its own
    ///   queue of unsent acknowledgements overflows.
    func receivedPing(_ payload: UInt64) -> Bool {
        guard acknowledgesPings else { return true }  // nghttp2 acknowledged it already
        guard unacknowledgedPings.count < Self.maxUnacknowledgedPings else { return false }
        unacknowledgedPings.append(payload)
        return true
    }

    /// nghttp2's own bound on unsent acknowledgements (`NGHTTP2_DEFAULT_MAX_OBQ_FLOOD_ITEM`).
    static let maxUnacknowledgedPings = 1000

    /// Queues an acknowledgement for every PING received so far, to go out with the next drained output.
    ///
    /// - Throws: ``NghttpSessionError`` when nghttp2 refuses them (its queue of unsent acknowledgements is full: the
    ///   peer floods), which ends the connection.
    func acknowledgePings() throws(NghttpSessionError) {
        guard let session, !unacknowledgedPings.isEmpty else { return }
        defer { unacknowledgedPings.removeAll(keepingCapacity: true) }
        for payload in unacknowledgedPings {
            let result = Self.submitPing(payload, flags: NGHTTP2_FLAG_ACK, on: session)
            if result != 0 { throw NghttpSession.error(result) }
        }
    }

    /// Whether nghttp2 still wants to read or write; when neither, the connection is finished.
    var isFinished: Bool {
        guard let session else { return true }
        return nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0
    }

    // MARK: Submitting frames

    /// Starts a response (server) on `streamID`: HEADERS now, DATA pulled from the delegate as flow control allows.
    func submitResponse(streamID: HTTP2StreamID, headers: [HeaderField]) {
        guard let session else { return }
        var provider = nghttp2_data_provider()
        provider.read_callback = NghttpSession.readCallback
        withNameValues(headers) { nva, count in
            _ = nghttp2_submit_response(session, streamID.rawValue, nva, count, &provider)
        }
    }

    /// Sends a HEADERS frame that ends the stream on our side (a trailers-only gRPC response, or an HTTP error).
    func submitFinalHeaders(streamID: HTTP2StreamID, headers: [HeaderField]) {
        guard let session else { return }
        withNameValues(headers) { nva, count in
            _ = nghttp2_submit_headers(
                session, UInt8(NGHTTP2_FLAG_END_STREAM.rawValue), streamID.rawValue, nil, nva, count, nil)
        }
    }

    /// Starts a request (client); its body is pulled from the delegate. Returns the new stream's ID.
    func submitRequest(headers: [HeaderField]) -> HTTP2StreamID {
        guard let session else { return HTTP2StreamID(-1) }
        var provider = nghttp2_data_provider()
        provider.read_callback = NghttpSession.readCallback
        let id = withNameValues(headers) { nva, count in
            nghttp2_submit_request(session, nil, nva, count, &provider, nil)
        }
        return HTTP2StreamID(id)
    }

    /// Tells nghttp2 that a stream whose delegate answered ``NghttpOutbound/deferred`` has data again.
    func resumeData(streamID: HTTP2StreamID) {
        guard let session else { return }
        _ = nghttp2_session_resume_data(session, streamID.rawValue)
    }

    /// Resets a stream with an HTTP/2 error code (0 NO_ERROR, 8 CANCEL, …).
    /// Acknowledges `count` bytes of DATA that stream `streamID`'s call has taken (server role): nghttp2 sends a
    /// WINDOW_UPDATE for the stream once enough have been. A no-op for a stream nghttp2 has closed.
    func acknowledgeData(_ count: Int, streamID: HTTP2StreamID) {
        guard acknowledgesData, count > 0, let session else { return }
        _ = nghttp2_session_consume_stream(session, streamID.rawValue, count)
    }

    func submitReset(streamID: HTTP2StreamID, errorCode: UInt32) {
        guard let session else { return }
        _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID.rawValue, errorCode)
    }

    /// Sends GOAWAY(NO_ERROR) naming the last stream this session has processed: streams up to it may finish, new
    /// ones are refused. The session finishes (``isFinished``) once those streams close.
    func submitGoAway() {
        guard let session else { return }
        let last = nghttp2_session_get_last_proc_stream_id(session)
        _ = nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), last, 0, nil, 0)
    }

    /// Whether the peer has closed its side of `streamID` (sent END_STREAM).
    func isRemoteClosed(streamID: HTTP2StreamID) -> Bool {
        guard let session else { return true }
        return nghttp2_session_get_stream_remote_close(session, streamID.rawValue) != 0
    }

    // MARK: Helpers

    /// Calls `body` with an `nghttp2_nv` array for `headers`. nghttp2 copies names and values while submitting.
    func withNameValues<R>(_ headers: [HeaderField], _ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
        // Both arrays live on the stack for the usual few short fields (a reply's headers or trailers), so
        // submitting them allocates nothing; nghttp2 copies what it keeps.
        var byteCount = 1  // never empty, so baseAddress is never nil
        for field in headers { byteCount += field.name.utf8.count + field.value.utf8.count }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: byteCount) { storage in
            withUnsafeTemporaryAllocation(of: nghttp2_nv.self, capacity: Swift.max(headers.count, 1)) { nva in
                let base = storage.baseAddress!
                var offset = 0
                func copy(_ text: String) -> (UnsafeMutablePointer<UInt8>, Int) {
                    let start = base + offset
                    let count = UnsafeMutableBufferPointer(start: start, count: byteCount - offset)
                        .initialize(fromContentsOf: text.utf8)
                    offset += count
                    return (start, count)
                }
                for (position, field) in headers.enumerated() {
                    let (name, nameLength) = copy(field.name)
                    let (value, valueLength) = copy(field.value)
                    (nva.baseAddress! + position).initialize(
                        to: nghttp2_nv(
                            name: name, value: value, namelen: nameLength, valuelen: valueLength,
                            flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)))
                }
                return body(nva.baseAddress!, headers.count)
            }
        }
    }

    static func error(_ code: Int32) -> NghttpSessionError {
        NghttpSessionError(code: code, message: String(cString: nghttp2_strerror(code)))
    }

    /// Recovers the session from nghttp2's `user_data`.
    static func from(_ userData: UnsafeMutableRawPointer?) -> NghttpSession {
        Unmanaged<NghttpSession>.fromOpaque(userData!).takeUnretainedValue()
    }
}
