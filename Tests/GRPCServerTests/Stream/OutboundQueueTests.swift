import GRPCServer
import NIOCore
import Testing

@Suite("outbound queue")
struct OutboundQueueTests {
    private let allocator = ByteBufferAllocator()

    @Test("pulls never exceed the frame size and preserve byte order across chunks")
    func pullsRespectMaxLength() {
        var queue = OutboundQueue(highWatermark: 1 << 20, lowWatermark: 0)
        queue.append(ByteBuffer(bytes: [1, 2, 3]))
        queue.append(ByteBuffer(bytes: [4, 5]))
        queue.append(ByteBuffer(bytes: [6]))
        var out: [UInt8] = []
        while let pull = queue.pull(maxLength: 2, allocator: allocator) {
            #expect(pull.bytes.readableBytes <= 2)
            out += pull.bytes.readableBytesView
        }
        #expect(out == [1, 2, 3, 4, 5, 6])
        #expect(queue.isEmpty)
    }

    @Test("trailers come with the last bytes, or alone when nothing is queued")
    func trailers() {
        var queue = OutboundQueue(highWatermark: 100, lowWatermark: 0)
        queue.append(ByteBuffer(bytes: [1, 2, 3]))
        queue.finish(trailers: [HeaderField("grpc-status", "0")])
        let first = queue.pull(maxLength: 2, allocator: allocator)
        #expect(first?.trailers == nil)
        let last = queue.pull(maxLength: 2, allocator: allocator)
        #expect(last?.trailers == [HeaderField("grpc-status", "0")])
        #expect(queue.pull(maxLength: 2, allocator: allocator) == nil)

        var alone = OutboundQueue(highWatermark: 100, lowWatermark: 0)
        alone.finish(trailers: [HeaderField("grpc-status", "1")])
        let pull = alone.pull(maxLength: 10, allocator: allocator)
        #expect(pull?.bytes.readableBytes == 0)
        #expect(pull?.trailers == [HeaderField("grpc-status", "1")])
    }

    @Test("above the high watermark producers are told to stop, and told once when it drains to the low one")
    func watermarks() {
        var queue = OutboundQueue(highWatermark: 10, lowWatermark: 4)
        queue.append(ByteBuffer(bytes: Array(repeating: 0, count: 8)))
        #expect(!queue.isAboveHighWater)
        queue.append(ByteBuffer(bytes: Array(repeating: 0, count: 8)))
        #expect(queue.isAboveHighWater)
        #expect(queue.pull(maxLength: 6, allocator: allocator)?.becameWritable == false)
        #expect(queue.isAboveHighWater)
        #expect(queue.pull(maxLength: 6, allocator: allocator)?.becameWritable == true)
        #expect(!queue.isAboveHighWater)
        #expect(queue.pull(maxLength: 6, allocator: allocator)?.becameWritable == false)
    }
}
