import NIOCore

/// Receives what an ``NghttpSession`` decodes, synchronously, from inside `receive(_:)` or `drainOutput(into:)`.
///
/// The methods may call back into the session (submit, resume, reset): nghttp2 allows that from its callbacks.
/// They must not call `receive(_:)` (the session asserts that it is not re-entered).
protocol NghttpSessionDelegate: AnyObject {
    /// A HEADERS block starts on `streamID` (a new request on a server, a response or trailers on a client).
    func sessionBeginHeaders(streamID: HTTP2StreamID)

    /// One header field of the block that began with ``sessionBeginHeaders(streamID:)``.
    func sessionReceivedHeader(_ field: HeaderField, streamID: HTTP2StreamID)

    /// A HEADERS block is complete. `endStream` is set when the peer closed its side with it.
    func sessionReceivedHeaders(streamID: HTTP2StreamID, endStream: Bool)

    /// A chunk of DATA payload (already counted against flow control by nghttp2).
    func sessionReceivedData(_ bytes: ByteBuffer, streamID: HTTP2StreamID)

    /// The peer closed its side of the stream with END_STREAM on a DATA frame.
    func sessionReceivedEndStream(streamID: HTTP2StreamID)

    /// A HEADERS frame was written for `streamID`; `endStream` is set when it closed our side.
    func sessionSentHeaders(streamID: HTTP2StreamID, endStream: Bool)

    /// The stream is gone (both sides closed, reset by either side, or refused). `errorCode` is the HTTP/2 error code
    /// (0 for a normal close, 8 for CANCEL).
    func sessionClosedStream(streamID: HTTP2StreamID, errorCode: UInt32)

    /// nghttp2 can send up to `maxLength` bytes of DATA on `streamID`.
    func sessionOutbound(streamID: HTTP2StreamID, maxLength: Int) -> NghttpOutbound
}
