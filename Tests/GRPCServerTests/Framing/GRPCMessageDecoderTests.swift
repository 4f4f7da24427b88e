import GRPCServer
import NIOCore
import Testing

@Suite("gRPC message decoder")
struct GRPCMessageDecoderTests {
    private func framed(_ message: [UInt8], flag: UInt8 = 0) -> [UInt8] {
        let length = UInt32(message.count)
        return [flag, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
            + message
    }

    private func failure(_ decoder: inout GRPCMessageDecoder) -> GRPCStatus? {
        do {
            _ = try decoder.next()
            return nil
        } catch {
            return error
        }
    }

    private func decodeAll(_ decoder: inout GRPCMessageDecoder) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        while let message = try decoder.next() { out.append(message) }
        return out
    }

    @Test("a message split byte by byte over many chunks arrives whole, once")
    func splitMessage() throws {
        var decoder = GRPCMessageDecoder(maxMessageLength: 1024)
        let bytes = framed(Array("hello".utf8))
        var received: [[UInt8]] = []
        for byte in bytes {
            decoder.append(ByteBuffer(bytes: [byte]))
            received += try decodeAll(&decoder)
        }
        #expect(received == [Array("hello".utf8)])
        #expect(!decoder.hasPartialMessage)
    }

    @Test("several messages in one chunk, including empty ones, come out in order")
    func packedMessages() throws {
        var decoder = GRPCMessageDecoder(maxMessageLength: 1024)
        decoder.append(ByteBuffer(bytes: framed([1]) + framed([]) + framed([2, 3]) + framed([])))
        let result = try decodeAll(&decoder)
        #expect(result == [[1], [], [2, 3], []])
    }

    @Test("a partial prefix is buffered and reported as partial")
    func partialPrefix() throws {
        var decoder = GRPCMessageDecoder(maxMessageLength: 1024)
        decoder.append(ByteBuffer(bytes: [0, 0, 0]))
        let result = try decoder.next()
        #expect(result == nil)
        #expect(decoder.hasPartialMessage)
    }

    @Test("a message over the limit is RESOURCE_EXHAUSTED as soon as its prefix arrives")
    func oversized() {
        var decoder = GRPCMessageDecoder(maxMessageLength: 4)
        decoder.append(ByteBuffer(bytes: [0, 0, 0, 0, 5]))
        let error = failure(&decoder)
        #expect(error == GRPCStatus(.resourceExhausted, "grpc: received message larger than max (5 vs. 4)"))
    }

    @Test("a message exactly at the limit is accepted")
    func atLimit() throws {
        var decoder = GRPCMessageDecoder(maxMessageLength: 4)
        decoder.append(ByteBuffer(bytes: framed([1, 2, 3, 4])))
        let result = try decoder.next()
        #expect(result == [1, 2, 3, 4])
    }

    @Test("the compressed flag without grpc-encoding is INTERNAL")
    func compressedWithoutEncoding() {
        var decoder = GRPCMessageDecoder(maxMessageLength: 1024)
        decoder.append(ByteBuffer(bytes: framed([1], flag: 1)))
        let error = failure(&decoder)
        #expect(error == GRPCStatus(.internal, "grpc: compressed flag set with identity or empty encoding"))
    }

    @Test("the compressed flag with an encoding Vigil lacks is UNIMPLEMENTED")
    func compressedWithGzip() {
        var decoder = GRPCMessageDecoder(maxMessageLength: 1024, encoding: "gzip")
        decoder.append(ByteBuffer(bytes: framed([1], flag: 1)))
        let error = failure(&decoder)
        #expect(error?.code == .unimplemented)
    }

    @Test("an unknown payload flag is INTERNAL")
    func unknownFlag() {
        var decoder = GRPCMessageDecoder(maxMessageLength: 1024)
        decoder.append(ByteBuffer(bytes: framed([1], flag: 7)))
        let error = failure(&decoder)
        #expect(error == GRPCStatus(.internal, "grpc: received unexpected payload format 7"))
    }

    @Test("the framer writes the prefix the decoder reads")
    func framerRoundTrip() throws {
        var decoder = GRPCMessageDecoder(maxMessageLength: 1 << 20)
        let message = (0..<70_000).map { UInt8(truncatingIfNeeded: $0) }
        let frame = GRPCMessageFramer.frame(message)
        #expect(frame.readableBytes == message.count + 5)
        decoder.append(frame)
        let result = try decoder.next()
        #expect(result == message)
    }
}
