public import NIOCore

/// Writes gRPC's 5-byte length prefix and a message into one buffer, ready to be sent as DATA.
public enum GRPCMessageFramer {
    /// The framed form of `message` (uncompressed).
    public static func frame(_ message: [UInt8], allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: message.count + 5)
        buffer.writeGRPCMessage(length: message.count) { $0.write(message) }
        return buffer
    }
}
