public import NIOCore

/// Writes gRPC's 5-byte length prefix and a message into one buffer, ready to be sent as DATA.
public enum GRPCMessageFramer {
    /// The framed form of `message` (uncompressed).
    public static func frame(_ message: [UInt8], allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        frame(parts: CollectionOfOne(message[...]), allocator: allocator)
    }

    /// The framed form of the message made of `parts` laid end to end.
    public static func frame<Parts: Collection>(parts: Parts, allocator: ByteBufferAllocator = ByteBufferAllocator())
        -> ByteBuffer where Parts.Element == ArraySlice<UInt8>
    {
        let length = parts.reduce(0) { $0 + $1.count }
        var buffer = allocator.buffer(capacity: length + 5)
        write(parts: parts, length: length, into: &buffer)
        return buffer
    }

    /// Appends the framed form of the message made of `parts` (`length` bytes in all) to `buffer`.
    static func write<Parts: Collection>(parts: Parts, length: Int, into buffer: inout ByteBuffer)
    where Parts.Element == ArraySlice<UInt8> {
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(length))
        for part in parts { buffer.writeBytes(part) }
    }
}
