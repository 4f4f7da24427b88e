public import NIOCore

/// Splits a request body into gRPC messages: each is a 5-byte prefix (compressed flag, 4-byte big-endian length)
/// followed by that many bytes. DATA frames may carry part of a message, several messages, or empty messages.
///
/// Pure: it never touches a socket, so every framing case is unit-tested directly.
public struct GRPCMessageDecoder {
    /// The largest message accepted, in bytes; a longer one is refused as soon as its prefix arrives.
    public let maxMessageLength: Int
    /// The request's `grpc-encoding`, if any. Vigil decompresses nothing, so a compressed message is an error.
    public let encoding: String?

    /// Bytes received but not yet returned as messages.
    private var pending: ByteBuffer

    public init(maxMessageLength: Int, encoding: String? = nil) {
        self.maxMessageLength = maxMessageLength
        self.encoding = encoding
        self.pending = ByteBuffer()
    }

    /// Adds a chunk of request body.
    public mutating func append(_ bytes: ByteBuffer) {
        if pending.readableBytes == 0 {
            pending = bytes
        } else {
            var bytes = bytes
            pending.writeBuffer(&bytes)
        }
    }

    /// The next complete message, or nil when more bytes are needed.
    ///
    /// - Throws: the ``GRPCStatus`` the call must end with: `RESOURCE_EXHAUSTED` for a message over the limit,
    ///   `INTERNAL` for the compressed flag without an encoding, `UNIMPLEMENTED` for an encoding Vigil lacks.
    public mutating func next() throws(GRPCStatus) -> [UInt8]? {
        guard pending.readableBytes >= 5,
            let flag = pending.getInteger(at: pending.readerIndex, as: UInt8.self),
            let length = pending.getInteger(at: pending.readerIndex + 1, as: UInt32.self)
        else { return nil }
        switch flag {
        case 0:
            break
        case 1:
            if let encoding, encoding != "identity" {
                throw GRPCStatus(.unimplemented, "grpc: Decompressor is not installed for grpc-encoding \"\(encoding)\"")
            }
            throw GRPCStatus(.internal, "grpc: compressed flag set with identity or empty encoding")
        default:
            throw GRPCStatus(.internal, "grpc: received unexpected payload format \(flag)")
        }
        if Int(length) > maxMessageLength {
            throw GRPCStatus(
                .resourceExhausted, "grpc: received message larger than max (\(length) vs. \(maxMessageLength))")
        }
        guard pending.readableBytes >= 5 + Int(length) else { return nil }
        pending.moveReaderIndex(forwardBy: 5)
        let message = pending.readBytes(length: Int(length))!
        if pending.readableBytes == 0 { pending.clear() }
        return message
    }

    /// Whether bytes of an unfinished message are buffered (an error if the request ends now).
    public var hasPartialMessage: Bool { pending.readableBytes > 0 }
}
