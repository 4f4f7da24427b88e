public import NIOCore

/// Writes gRPC's 5-byte length prefix and a message into one buffer, ready to be sent as DATA.
public enum GRPCMessageFramer {
    /// The framed form of `message` (uncompressed).
    public static func frame(_ message: [UInt8], allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: message.count + 5)
        write(length: message.count, into: &buffer) { $0.write(message) }
        return buffer
    }

    /// Appends the prefix of an uncompressed `length`-byte message to `buffer`, then the message, which `body`
    /// writes: exactly `length` bytes, or the frame would be corrupt (checked). With `declared`, the prefix announces
    /// that many bytes, of which `body` writes the first `length`; the caller queues the rest right after.
    static func write(
        length: Int, declaring declared: Int? = nil, into buffer: inout ByteBuffer, body: (inout MessageWriter) -> Void
    ) {
        buffer.writeGRPCMessage(length: length, declaring: declared, body: body)
    }
}
