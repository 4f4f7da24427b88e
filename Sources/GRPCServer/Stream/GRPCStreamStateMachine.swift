/// The life of one gRPC call on the server, as two halves: the client's request side and our response side.
///
/// ```
///             HEADERS (accepted)
///   idle ───────────────────────────▶ client open / server idle
///                                          │ first message sent: response HEADERS go out first
///                                          ▼
///                                     client open / server open ──── status sent ───▶ server closed
///                                          │ END_STREAM from client (any time)              │
///                                          ▼                                                 │
///                                     client closed ...                                      │
///   Both halves closed, or RST_STREAM / disconnect at any point  ─────────────────────────▶ finished
/// ```
///
/// Pure: every transition returns what the stream must do; nothing here touches nghttp2. A status sent while the
/// client is still open asks for an RST_STREAM(NO_ERROR) after the trailers, so the client stops sending (RFC 9113
/// §8.1), as grpc-go does.
public struct GRPCStreamStateMachine: Sendable, Equatable {
    /// The client's side: are request messages still coming?
    public enum ClientState: Sendable, Equatable {
        case idle, open, closed
    }

    /// Our side: have response HEADERS gone out, and has the status?
    public enum ServerState: Sendable, Equatable {
        case idle, open, closed
    }

    public private(set) var client: ClientState = .idle
    public private(set) var server: ServerState = .idle
    /// Set once nghttp2 reports the stream closed (normally or by reset); nothing more may be sent.
    public private(set) var isGone = false

    public init() {}

    /// What to do with request HEADERS.
    public enum OnHeaders: Sendable, Equatable {
        /// Start the call.
        case start
        /// HEADERS on a stream that already started (trailers from the client): nothing to start.
        case ignore
    }

    public mutating func receiveHeaders(endStream: Bool) -> OnHeaders {
        guard client == .idle else {
            if endStream { client = .closed }
            return .ignore
        }
        client = endStream ? .closed : .open
        return .start
    }

    /// What to do with request DATA.
    public enum OnData: Sendable, Equatable {
        /// Decode it and deliver the messages to the handler.
        case deliver
        /// The call is already over on our side: drop it (flow control is nghttp2's job).
        case discard
    }

    public mutating func receiveData() -> OnData {
        (client == .open && server != .closed && !isGone) ? .deliver : .discard
    }

    /// The client half-closed with END_STREAM. Returns true when the handler should be told.
    public mutating func receiveEndStream() -> Bool {
        guard client == .open else { return false }
        client = .closed
        return server != .closed && !isGone
    }

    /// What to do to send one response message.
    public enum OnSendMessage: Sendable, Equatable {
        /// Submit the response HEADERS (with the DATA provider), then queue the message.
        case sendHeadersAndQueue
        /// Queue the message; the DATA provider is already attached.
        case queue
        /// The call is over: drop the message.
        case drop
    }

    public mutating func sendMessage() -> OnSendMessage {
        guard !isGone else { return .drop }
        switch server {
        case .idle:
            server = .open
            return .sendHeadersAndQueue
        case .open:
            return .queue
        case .closed:
            return .drop
        }
    }

    /// What to do to end the call with a status.
    public enum OnSendStatus: Sendable, Equatable {
        /// No HEADERS went out yet: one HEADERS frame carries `:status`, content-type and the status, with END_STREAM.
        case trailersOnly
        /// Queue the trailers after the messages already queued.
        case queueTrailers
        /// The call already ended: nothing to send.
        case ignore
    }

    public mutating func sendStatus() -> OnSendStatus {
        guard !isGone else { return .ignore }
        switch server {
        case .idle:
            server = .closed
            return .trailersOnly
        case .open:
            server = .closed
            return .queueTrailers
        case .closed:
            return .ignore
        }
    }

    /// Whether our final HEADERS just went out while the client still sends: then reset with NO_ERROR.
    public func needsResetAfterFinalHeaders(clientStillOpen: Bool) -> Bool {
        server == .closed && clientStillOpen && !isGone
    }

    /// nghttp2 closed the stream. Returns true when the handler was still running and must be cancelled.
    public mutating func streamClosed() -> Bool {
        defer { isGone = true }
        return !isGone && server != .closed && client != .idle
    }

    /// Whether the call has ended on our side (status sent) or is gone.
    public var isFinished: Bool { server == .closed || isGone }
}
