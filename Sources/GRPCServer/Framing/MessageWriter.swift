import NIOCore

/// The space of one outbound gRPC message, written front to back by a message body.
///
/// A framer reserves the message's exact length in its outbound chunk and hands the body this writer: each write
/// is one bounds-checked copy, where writing through `ByteBuffer` paid a capacity check, a uniqueness check and an
/// index update for every piece (a watch response is four pieces, and a revision fans out to thousands of
/// responses). Non-copyable and only ever lent `inout`, so a body cannot keep it past its turn; every write stays
/// inside the reserved space (a write past it traps).
public struct MessageWriter: ~Copyable {
    /// The reserved space; valid only while the framer's closure runs.
    @usableFromInline let space: UnsafeMutableRawBufferPointer
    /// Bytes written so far.
    @usableFromInline var offset = 0

    init(space: UnsafeMutableRawBufferPointer) {
        self.space = space
    }

    /// Bytes written so far.
    public var written: Int { offset }

    /// A message of `length` bytes that `body` writes (exactly that many), as an array: for a writer that sends a
    /// message on in another form (etcd's JSON gateway) rather than into a gRPC frame.
    public static func bytes(length: Int, body: (inout MessageWriter) -> Void) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            var writer = MessageWriter(space: UnsafeMutableRawBufferPointer(buffer))
            body(&writer)
            precondition(writer.written == length, "a message body wrote other than its length")
            initialized = length
        }
    }

    // The writes are inlinable: a response is written a few bytes at a time, from another module.

    /// Appends `bytes`.
    @inlinable
    public mutating func write(_ bytes: [UInt8]) {
        precondition(bytes.count <= space.count - offset, "a message body wrote past its length")
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress, let target = space.baseAddress {
                (target + offset).copyMemory(from: base, byteCount: source.count)
            }
        }
        offset += bytes.count
    }

    /// Appends one byte.
    @inlinable
    public mutating func write(byte: UInt8) {
        precondition(offset < space.count, "a message body wrote past its length")
        space[offset] = byte
        offset += 1
    }
}

extension ByteBuffer {
    /// Frames messages `first`, `first + 1`, … (below `end`) one after another into the space this buffer already
    /// has, as many whole ones as fit (none if the first does not); returns the index of the first one not written.
    /// One pass over one buffer for a burst of small messages (a revision's responses to many watchers), instead of
    /// a buffer access per message. `length(i)` is message i's length; `body` must write exactly that.
    mutating func writeGRPCMessages(
        from first: Int, to end: Int, length: (Int) -> Int, body: (Int, inout MessageWriter) -> Void
    ) -> Int {
        var next = first
        // Minimum 0: only the space the buffer has (the caller starts a new chunk when the next message does not fit).
        writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { space in
            var offset = 0
            while next < end {
                let length = length(next)
                guard length + 5 <= space.count - offset else { break }
                let index = next
                offset += Self.frame(length: length, declaring: length, at: offset, in: space) { body(index, &$0) }
                next += 1
            }
            return offset
        }
        return next
    }

    /// Appends gRPC's 5-byte prefix of an uncompressed `length`-byte message, then the message, which `body`
    /// writes into space reserved for exactly `length` bytes (writing fewer or more traps). With `declared`, the
    /// prefix announces that many bytes, of which `body` writes the first `length`; the caller appends the rest.
    mutating func writeGRPCMessage(length: Int, declaring declared: Int? = nil, body: (inout MessageWriter) -> Void) {
        let declared = declared ?? length
        precondition(declared >= length)
        writeWithUnsafeMutableBytes(minimumWritableBytes: length + 5) { space in
            Self.frame(length: length, declaring: declared, at: 0, in: space, body: body)
        }
    }

    /// Writes one framed message at `offset` in `space` (which has room for it): the prefix announcing `declared`
    /// bytes (uncompressed), then the `length` bytes `body` writes, checked. Returns the bytes written.
    private static func frame(
        length: Int, declaring declared: Int, at offset: Int, in space: UnsafeMutableRawBufferPointer,
        body: (inout MessageWriter) -> Void
    ) -> Int {
        let framed = length + 5
        space[offset] = 0  // not compressed
        space[offset + 1] = UInt8(truncatingIfNeeded: declared >> 24)
        space[offset + 2] = UInt8(truncatingIfNeeded: declared >> 16)
        space[offset + 3] = UInt8(truncatingIfNeeded: declared >> 8)
        space[offset + 4] = UInt8(truncatingIfNeeded: declared)
        var writer = MessageWriter(
            space: UnsafeMutableRawBufferPointer(rebasing: space[(offset + 5)..<(offset + framed)]))
        body(&writer)
        precondition(writer.written == length, "a gRPC message body wrote other than its length")
        return framed
    }
}
