import NIOCore

/// What a stream hands nghttp2 when nghttp2 asks it for DATA to send.
enum NghttpOutbound {
    /// Nothing queued yet: nghttp2 parks the stream until ``NghttpSession/resumeData(streamID:)``.
    case deferred
    /// Bytes to send (at most the length nghttp2 asked for), and what, if anything, ends the body.
    case data(ByteBuffer, end: End?)

    /// How the body ends once these bytes are sent.
    enum End {
        /// END_STREAM on the last DATA frame (a client ending its request).
        case endStream
        /// The body ends with a trailers HEADERS frame carrying END_STREAM (a gRPC server's status).
        case trailers([HeaderField])
    }
}
