import GRPCServer
import NIOCore
import Testing

@Suite("outbound queue")
struct OutboundQueueTests {
    private let allocator = ByteBufferAllocator()

    /// The gRPC frame of `message`, as the queue should send it.
    private func frame(_ message: [UInt8]) -> [UInt8] {
        [0] + withUnsafeBytes(of: UInt32(message.count).bigEndian) { Array($0) } + message
    }

    private func drain(_ queue: inout OutboundQueue, maxLength: Int) -> [UInt8] {
        var out: [UInt8] = []
        while let pull = queue.pull(maxLength: maxLength, allocator: allocator) {
            #expect(pull.bytes.readableBytes <= maxLength)
            out += pull.bytes.readableBytesView
        }
        return out
    }

    @Test("a message body cannot write past the length it declared")
    func bodyBoundedByLength() async {
        await #expect(processExitsWith: .failure) {
            var queue = OutboundQueue(highWatermark: 1 << 20, lowWatermark: 0)
            queue.appendMessage(length: 2, allocator: ByteBufferAllocator()) { $0.write([1, 2, 3]) }
        }
    }

    @Test("a burst of messages of varied sizes, some larger than a chunk, comes out framed, whole and in order")
    func burst() {
        var queue = OutboundQueue(highWatermark: 1 << 30, lowWatermark: 0)
        queue.appendMessage([7], allocator: allocator)
        // Lengths that leave chunks partly filled, and two larger than a whole chunk.
        let lengths = (0..<3000).map { i in i == 1000 || i == 2000 ? OutboundQueue.chunkCapacity + 17 : (i * 37) % 300 }
        func message(_ i: Int) -> [UInt8] { (0..<lengths[i]).map { UInt8(truncatingIfNeeded: i &+ $0) } }
        queue.appendMessages(count: lengths.count, allocator: allocator, length: { lengths[$0] }) { i, writer in
            writer.write(message(i))
        }
        queue.appendMessage([8], allocator: allocator)
        var expected = frame([7])
        for i in lengths.indices { expected += frame(message(i)) }
        expected += frame([8])
        #expect(queue.queuedBytes == expected.count)
        #expect(drain(&queue, maxLength: 16_384) == expected)
    }

    @Test("a message with attachments: one prefix for head and attachments, large attachments sliced, not copied")
    func attachments() {
        var queue = OutboundQueue(highWatermark: 1 << 20, lowWatermark: 0)
        let large = ByteBuffer(bytes: Array(repeating: 9, count: 10_000))
        let small = ByteBuffer(bytes: [8, 8])
        queue.appendMessage([1], allocator: allocator)
        queue.appendMessage(headLength: 2, attachments: [large, small], allocator: allocator) { message in
            message.write([2, 3])
        }
        queue.appendMessage([4], allocator: allocator)
        #expect(queue.queuedBytes == 6 + (7 + 10_002) + 6)
        var pulls: [ByteBuffer] = []
        while let pull = queue.pull(maxLength: 16_384, allocator: allocator) { pulls.append(pull.bytes) }
        // The small chunks before the large attachment go out as one frame; the attachment is sliced into frames
        // of its own (frame boundaries at its start), and what follows it is coalesced again.
        #expect(pulls.map(\.readableBytes) == [6 + 7, 10_000, 2 + 6])
        let bytes = pulls.flatMap { Array($0.readableBytesView) }
        #expect(bytes == frame([1]) + [0, 0, 0, 0x27, 0x14, 2, 3] + Array(repeating: 9, count: 10_000) + [8, 8] + frame([4]))
    }

    @Test("pulls never exceed the frame size and preserve byte order across chunks")
    func pullsRespectMaxLength() {
        var queue = OutboundQueue(highWatermark: 1 << 20, lowWatermark: 0)
        queue.appendMessage([1, 2, 3], allocator: allocator)
        queue.appendMessage(length: 2, allocator: allocator) { message in  // a message written in pieces
            message.write([4])
            message.write(byte: 5)
        }
        queue.appendMessage([6], allocator: allocator)
        #expect(drain(&queue, maxLength: 2) == frame([1, 2, 3]) + frame([4, 5]) + frame([6]))
        #expect(queue.isEmpty)
    }

    @Test("messages appended after a pull cut part of a chunk follow the bytes already pulled, unchanged")
    func appendAfterPartialPull() {
        var queue = OutboundQueue(highWatermark: 1 << 20, lowWatermark: 0)
        queue.appendMessage(Array(repeating: 7, count: 100), allocator: allocator)
        let first = queue.pull(maxLength: 50, allocator: allocator)
        let firstBytes = first.map { Array($0.bytes.readableBytesView) } ?? []
        queue.appendMessage([1, 2], allocator: allocator)
        #expect(first.map { Array($0.bytes.readableBytesView) } == firstBytes)  // the cut slice is not disturbed
        let rest = drain(&queue, maxLength: 64)
        #expect(firstBytes + rest == frame(Array(repeating: 7, count: 100)) + frame([1, 2]))
    }

    @Test("a burst of small messages and one larger than a chunk come out whole and in order")
    func manySmallAndOneLarge() {
        var queue = OutboundQueue(highWatermark: 1 << 30, lowWatermark: 0)
        var expected: [UInt8] = []
        for i in 0..<5_000 {
            let message = [UInt8](repeating: UInt8(i % 251), count: i % 40)
            queue.appendMessage(message, allocator: allocator)
            expected += frame(message)
        }
        let large = [UInt8](repeating: 9, count: OutboundQueue.chunkCapacity * 2)
        queue.appendMessage(large, allocator: allocator)
        expected += frame(large)
        #expect(queue.queuedBytes == expected.count)
        #expect(drain(&queue, maxLength: 16_384) == expected)
    }

    @Test("trailers come with the last bytes, or alone when nothing is queued")
    func trailers() {
        var queue = OutboundQueue(highWatermark: 100, lowWatermark: 0)
        queue.appendMessage([1], allocator: allocator)  // six bytes framed
        queue.finish(trailers: [HeaderField("grpc-status", "0")])
        let first = queue.pull(maxLength: 3, allocator: allocator)
        #expect(first?.trailers == nil)
        let last = queue.pull(maxLength: 3, allocator: allocator)
        #expect(last?.trailers == [HeaderField("grpc-status", "0")])
        #expect(queue.pull(maxLength: 3, allocator: allocator) == nil)

        var alone = OutboundQueue(highWatermark: 100, lowWatermark: 0)
        alone.finish(trailers: [HeaderField("grpc-status", "1")])
        let pull = alone.pull(maxLength: 10, allocator: allocator)
        #expect(pull?.bytes.readableBytes == 0)
        #expect(pull?.trailers == [HeaderField("grpc-status", "1")])
    }

    @Test("above the high watermark producers are told to stop, and told once when it drains to the low one")
    func watermarks() {
        var queue = OutboundQueue(highWatermark: 10, lowWatermark: 4)
        queue.appendMessage(Array(repeating: 0, count: 3), allocator: allocator)  // 8 bytes framed
        #expect(!queue.isAboveHighWater)
        queue.appendMessage(Array(repeating: 0, count: 3), allocator: allocator)
        #expect(queue.isAboveHighWater)
        #expect(queue.pull(maxLength: 6, allocator: allocator)?.becameWritable == false)
        #expect(queue.isAboveHighWater)
        #expect(queue.pull(maxLength: 6, allocator: allocator)?.becameWritable == true)
        #expect(!queue.isAboveHighWater)
        #expect(queue.pull(maxLength: 6, allocator: allocator)?.becameWritable == false)
    }
}

extension OutboundQueue {
    /// Frames `message` at the end of the queue.
    fileprivate mutating func appendMessage(_ message: [UInt8], allocator: ByteBufferAllocator) {
        appendMessage(length: message.count, allocator: allocator) { $0.write(message) }
    }
}
