internal import CNghttp2
import NIOCore

// The C callbacks of NghttpSession. Each recovers the session from user_data and forwards Swift values to the
// delegate. They return 0, or NGHTTP2_ERR_CALLBACK_FAILURE, which ends the whole session.

extension NghttpSession {
    static func installCallbacks(_ callbacks: OpaquePointer?) {
        // A DATA frame whose payload the read callback left uncopied: its 9-byte header, then the payload itself.
        // Vigil never pads frames.
        nghttp2_session_callbacks_set_send_data_callback(callbacks) { _, frame, header, length, _, userData in
            let session = NghttpSession.from(userData)
            let payload = session.noCopyPayloads.removeValue(forKey: frame!.pointee.hd.stream_id) ?? ByteBuffer()
            guard payload.readableBytes == length, frame!.pointee.data.padlen == 0 else {
                return Int32(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue)
            }
            session.collect(UnsafeRawBufferPointer(start: header, count: 9))
            if length > 0 { session.collect(payload: payload) }
            return 0
        }
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            let session = NghttpSession.from(userData)
            session.delegate?.sessionBeginHeaders(streamID: HTTP2StreamID(frame!.pointee.hd.stream_id))
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, userData in
            let session = NghttpSession.from(userData)
            let field = HeaderField(
                String(decoding: UnsafeBufferPointer(start: name, count: nameLength), as: UTF8.self),
                String(decoding: UnsafeBufferPointer(start: value, count: valueLength), as: UTF8.self))
            session.delegate?.sessionReceivedHeader(field, streamID: HTTP2StreamID(frame!.pointee.hd.stream_id))
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            let session = NghttpSession.from(userData)
            let header = frame!.pointee.hd
            let streamID = HTTP2StreamID(header.stream_id)
            let endStream = header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            switch header.type {
            case UInt8(NGHTTP2_HEADERS.rawValue):
                session.delegate?.sessionReceivedHeaders(streamID: streamID, endStream: endStream)
            case UInt8(NGHTTP2_DATA.rawValue) where endStream:
                session.delegate?.sessionReceivedEndStream(streamID: streamID)
            case UInt8(NGHTTP2_PING.rawValue) where header.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) == 0:
                // Only reached with automatic acknowledgement off (the server role); the payload is 8 opaque bytes.
                let payload = withUnsafeBytes(of: frame!.pointee.ping.opaque_data) { $0.loadUnaligned(as: UInt64.self) }
                if !session.receivedPing(payload) { return Int32(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
            default:
                break
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { raw, _, streamID, data, length, userData in
            let session = NghttpSession.from(userData)
            // The connection's window at once; the stream's when its call takes the bytes (``acknowledgesData``).
            if session.acknowledgesData { _ = nghttp2_session_consume_connection(raw, length) }
            let bytes = ByteBuffer(bytes: UnsafeRawBufferPointer(start: data, count: length))
            session.delegate?.sessionReceivedData(bytes, streamID: HTTP2StreamID(streamID))
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, userData in
            let session = NghttpSession.from(userData)
            let header = frame!.pointee.hd
            if header.type == UInt8(NGHTTP2_HEADERS.rawValue) {
                let endStream = header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
                session.delegate?.sessionSentHeaders(streamID: HTTP2StreamID(header.stream_id), endStream: endStream)
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, errorCode, userData in
            let session = NghttpSession.from(userData)
            session.noCopyPayloads[streamID] = nil  // read for a frame that will not be sent now
            session.delegate?.sessionClosedStream(streamID: HTTP2StreamID(streamID), errorCode: errorCode)
            return 0
        }
    }

    /// The data provider's read callback, shared by every stream: it asks the delegate for bytes and hands them to
    /// nghttp2 without copying (`NGHTTP2_DATA_FLAG_NO_COPY`): the send-data callback puts them after the frame
    /// header in the session's output.
    static let readCallback: nghttp2_data_source_read_callback = { session, streamID, buffer, length, flags, _, userData in
        let owner = NghttpSession.from(userData)
        guard let delegate = owner.delegate else {
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        }
        switch delegate.sessionOutbound(streamID: HTTP2StreamID(streamID), maxLength: length) {
        case .deferred:
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        case .data(let bytes, let end):
            precondition(bytes.readableBytes <= length, "stream returned more DATA than nghttp2 asked for")
            owner.noCopyPayloads[streamID] = bytes
            flags!.pointee |= UInt32(NGHTTP2_DATA_FLAG_NO_COPY.rawValue)
            let count = bytes.readableBytes
            switch end {
            case nil:
                break
            case .endStream:
                flags!.pointee |= UInt32(NGHTTP2_DATA_FLAG_EOF.rawValue)
            case .trailers(let trailers):
                flags!.pointee |= UInt32(NGHTTP2_DATA_FLAG_EOF.rawValue | NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue)
                owner.withNameValues(trailers) { nva, count in
                    _ = nghttp2_submit_trailer(session, streamID, nva, count)
                }
            }
            return count
        }
    }
}
