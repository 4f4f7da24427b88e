public import NIOCore

/// The framed response bytes of one stream waiting for nghttp2 to pull them, with the trailers that end it.
///
/// Bounded by contract, not by refusal: ``isAboveHighWater`` tells producers to stop, and the stream reports
/// ``becameWritable`` when the queue drains below the low watermark, so a stream whose peer stops reading pushes back
/// on its producer instead of growing without bound.
public struct OutboundQueue {
    /// Queued chunks no longer written to, oldest first; `tail` follows them.
    private var chunks: CircularBuffer<ByteBuffer> = CircularBuffer(initialCapacity: 4)
    /// The newest chunk, which messages are framed into while it has room. Kept out of `chunks` so that writing
    /// mutates it in place (an element of a collection would be copied out and back, a retain and release of its
    /// storage per message). Sealed into `chunks` before any pull cuts from it: cutting shares its storage.
    private var tail: ByteBuffer?
    /// Sum of the readable bytes of `chunks` and `tail`.
    public private(set) var queuedBytes = 0
    /// Trailers to send once every chunk is out; set by the final status.
    public private(set) var trailers: [HeaderField]?

    /// Above this many queued bytes, producers should stop.
    public let highWatermark: Int
    /// Once a queue that went above the high watermark drains to this many bytes, producers may resume.
    public let lowWatermark: Int
    /// Whether the queue went above the high watermark and has not drained to the low one since.
    private var overHigh = false

    public init(highWatermark: Int, lowWatermark: Int) {
        precondition(lowWatermark <= highWatermark)
        self.highWatermark = highWatermark
        self.lowWatermark = lowWatermark
    }

    public var isEmpty: Bool { queuedBytes == 0 && trailers == nil }

    /// Whether producers should hold off.
    public var isAboveHighWater: Bool { overHigh }

    /// Smallest chunk allocated for framed messages: small messages share chunks instead of a buffer each.
    public static let chunkCapacity = 32 * 1024
    /// A chunk at least this large is never copied into a frame with others: it is sliced, and so reaches the socket
    /// as its own buffer (the size from which `NghttpSession` no longer copies a DATA payload).
    static let sliceThreshold = NghttpSession.smallPayload

    /// Frames one message of `length` bytes, which `body` writes, at the end of the queue (gRPC's 5-byte prefix,
    /// uncompressed). Small messages are written into the newest chunk while it has room and no DATA frame has been
    /// cut from it yet (cutting shares its storage, and writing then would copy it), so a burst of small responses
    /// costs one allocation per chunk rather than one per message, and the message is never assembled elsewhere
    /// first. `body` must write exactly `length` bytes.
    public mutating func appendMessage(
        length: Int, allocator: ByteBufferAllocator, body: (inout MessageWriter) -> Void
    ) {
        let framed = length + 5
        if tail != nil, tail!.writableBytes >= framed {
            tail!.writeGRPCMessage(length: length, body: body)
        } else {
            // A message into an empty queue gets a buffer of its own size (a unary response is the only message
            // of its call); a message behind others is likely followed by more, and starts a shared chunk.
            let capacity = queuedBytes == 0 ? framed : Swift.max(framed, Self.chunkCapacity)
            sealTail()
            var chunk = allocator.buffer(capacity: capacity)
            chunk.writeGRPCMessage(length: length, body: body)
            tail = chunk
        }
        queued(framed)
    }

    /// Frames `count` messages, message i of `length(i)` bytes written by `body(i, …)`, at the end of the queue: as
    /// many as fit go into the newest chunk in one pass, the rest into new shared chunks.
    public mutating func appendMessages(
        count: Int, allocator: ByteBufferAllocator, length: (Int) -> Int, body: (Int, inout MessageWriter) -> Void
    ) {
        var next = 0
        while next < count {
            if tail != nil {
                let before = tail!.readableBytes
                next = tail!.writeGRPCMessages(from: next, to: count, length: length, body: body)
                queued(tail!.readableBytes - before)
                if next == count { return }
            }
            // The next message does not fit: a new chunk, at least large enough for it.
            sealTail()
            tail = allocator.buffer(capacity: Swift.max(length(next) + 5, Self.chunkCapacity))
        }
    }

    /// Frames one message made of `headLength` bytes, which `body` writes, followed by `attachments` as they are:
    /// shared buffers (a catch-up batch sent to many watchers) are queued as chunks of their own and reach the
    /// socket without being copied into this queue.
    public mutating func appendMessage(
        headLength: Int, attachments: [ByteBuffer], allocator: ByteBufferAllocator, body: (inout MessageWriter) -> Void
    ) {
        var attached = 0
        for attachment in attachments { attached += attachment.readableBytes }
        let framedHead = headLength + 5
        if tail == nil || tail!.writableBytes < framedHead {
            // The head alone: the attachments follow it, so nothing else would be written into this chunk.
            sealTail()
            tail = allocator.buffer(capacity: framedHead)
        }
        tail!.writeGRPCMessage(length: headLength, declaring: headLength + attached, body: body)
        sealTail()
        for attachment in attachments where attachment.readableBytes > 0 { chunks.append(attachment) }
        queued(framedHead + attached)
    }

    /// Counts `bytes` more queued, noting when the queue goes above its high watermark.
    private mutating func queued(_ bytes: Int) {
        queuedBytes += bytes
        if queuedBytes > highWatermark { overHigh = true }
    }

    /// Moves `tail`, if it holds anything, to the end of `chunks`; the next message starts a new chunk.
    private mutating func sealTail() {
        if let tail, tail.readableBytes > 0 { chunks.append(tail) }
        tail = nil
    }

    public mutating func finish(trailers: [HeaderField]) {
        self.trailers = trailers
    }

    /// The result of pulling bytes for one DATA frame.
    public struct Pull {
        public var bytes: ByteBuffer
        /// Set when the trailers follow these bytes (the queue is then empty).
        public var trailers: [HeaderField]?
        /// Set when this pull took the queue from above the high watermark to the low one.
        public var becameWritable: Bool
    }

    /// Takes up to `maxLength` bytes; nil when there is nothing to send (neither bytes nor trailers).
    public mutating func pull(maxLength: Int, allocator: ByteBufferAllocator) -> Pull? {
        guard !isEmpty else { return nil }
        sealTail()
        var out: ByteBuffer
        if var first = chunks.first,
            first.readableBytes >= maxLength || first.readableBytes >= Self.sliceThreshold || chunks.count == 1
                || chunks[chunks.index(after: chunks.startIndex)].readableBytes >= Self.sliceThreshold
        {
            // One chunk satisfies the frame, or it or the next is large enough to go out as a frame of its own
            // (an attachment): slice instead of copying.
            let take = min(maxLength, first.readableBytes)
            out = first.readSlice(length: take)!
            if first.readableBytes == 0 { chunks.removeFirst() } else { chunks[chunks.startIndex] = first }
        } else {
            out = allocator.buffer(capacity: min(maxLength, queuedBytes))
            while out.readableBytes < maxLength, var chunk = chunks.first {
                // A large chunk is left to be sliced by the next pull rather than copied here.
                if chunk.readableBytes >= Self.sliceThreshold && out.readableBytes > 0 { break }
                let take = min(maxLength - out.readableBytes, chunk.readableBytes)
                var slice = chunk.readSlice(length: take)!
                out.writeBuffer(&slice)
                if chunk.readableBytes == 0 { chunks.removeFirst() } else { chunks[chunks.startIndex] = chunk }
            }
        }
        queuedBytes -= out.readableBytes
        var becameWritable = false
        if overHigh && queuedBytes <= lowWatermark {
            overHigh = false
            becameWritable = true
        }
        let ending = queuedBytes == 0 ? trailers : nil
        if ending != nil { trailers = nil }
        return Pull(bytes: out, trailers: ending, becameWritable: becameWritable)
    }

    /// Drops everything (the stream is gone).
    public mutating func removeAll() {
        chunks.removeAll(keepingCapacity: true)
        tail = nil
        queuedBytes = 0
        trailers = nil
        overHigh = false
    }
}
