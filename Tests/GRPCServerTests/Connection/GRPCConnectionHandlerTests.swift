@testable import GRPCServer
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// The connection handler driven by an in-memory nghttp2 client: the full request/response path, no socket.
@Suite("gRPC connection, in memory")
struct GRPCConnectionHandlerTests {
    /// A streaming handler that echoes and counts cancellations.
    final class Echo: GRPCStreamHandler {
        static let cancellations = NIOLockedValueBox(0)
        var stream: (any GRPCResponseWriter)?
        init(stream: any GRPCResponseWriter) { self.stream = stream }
        func receive(_ message: [UInt8]) { stream?.send(message) }
        func receiveEnd() { stream?.finish(.ok); stream = nil }
        func cancelled() {
            Echo.cancellations.withLockedValue { $0 += 1 }
            stream = nil
        }
    }

    /// A streaming handler that, asked for `n` messages, sends them as fast as the stream takes them, flushing after
    /// each burst, and resumes when the stream becomes writable — from inside the connection's flush.
    final class Flood: GRPCStreamHandler {
        var stream: (any GRPCResponseWriter)?
        var next = 0
        var total = 0
        init(stream: any GRPCResponseWriter) { self.stream = stream }
        static func message(_ index: Int) -> [UInt8] { [UInt8(index / 256), UInt8(index % 256)] + Array(repeating: 7, count: 498) }
        func receive(_ message: [UInt8]) {
            total = Int(message[0]) * 100
            produce()
        }
        func becameWritable() { produce() }
        func cancelled() { stream = nil }
        private func produce() {
            guard let stream else { return }
            while next < total && stream.isWritable {
                stream.send(Self.message(next))
                next += 1
            }
            stream.flush()
            if next == total {
                stream.finish(.ok)
                self.stream = nil
            }
        }
    }

    /// A streaming handler that answers each request `[byte, n, …]` with n KiB of `byte`, counting the requests it
    /// was handed.
    final class Amplify: GRPCStreamHandler {
        var stream: (any GRPCResponseWriter)?
        let received: NIOLockedValueBox<Int>
        init(stream: any GRPCResponseWriter, received: NIOLockedValueBox<Int>) {
            self.stream = stream
            self.received = received
        }
        func receive(_ message: [UInt8]) {
            received.withLockedValue { $0 += 1 }
            stream?.send([UInt8](repeating: message[0], count: Int(message[1]) * 1024))
        }
        func receiveEnd() { stream?.finish(.ok); stream = nil }
        func cancelled() { stream = nil }
    }

    private func router() -> GRPCRouter {
        var router = GRPCRouter()
        router.registerUnary(service: "test.Service", method: "Reverse") { request, _, responder in
            responder.respond(.success(request.reversed()))
        }
        router.registerUnary(service: "test.Service", method: "Expand") { request, _, responder in
            // [byte, n]: n thousand copies of byte, then a counter, so that misplaced pieces show.
            var response = [UInt8](repeating: request[0], count: Int(request[1]) * 1000)
            for index in stride(from: 0, to: response.count, by: 97) { response[index] = UInt8(index % 251) }
            responder.respond(.success(response))
        }
        router.registerStreaming(service: "test.Service", method: "Echo") { Echo(stream: $0) }
        router.registerStreaming(service: "test.Service", method: "Flood") { Flood(stream: $0) }
        return router
    }

    private func framed(_ message: [UInt8]) -> [UInt8] { Array(GRPCMessageFramer.frame(message).readableBytesView) }

    @Test("a unary call: response HEADERS, one framed message, trailers with status 0")
    func unary() throws {
        let client = try InMemoryClient(router: router())
        let id = try client.call("/test.Service/Reverse", messages: [[1, 2, 3]])
        #expect(client.value(":status", on: id) == "200")
        #expect(client.data[id] == framed([3, 2, 1]))
        #expect(client.value("grpc-status", on: id) == "0")
        #expect(client.closed[id] == 0)
    }

    @Test("a PING with nothing else to send is acknowledged after the delay; one before a call, with its reply")
    func pingAcknowledgements() throws {
        let client = try InMemoryClient(router: router())
        try client.ping(0x0102_0304_0506_0708)
        #expect(client.pingAcknowledgements.isEmpty)
        client.channel.embeddedEventLoop.advanceTime(by: GRPCConnectionHandler.pingAcknowledgementDelay)
        try client.pump()
        #expect(client.pingAcknowledgements == [0x0102_0304_0506_0708])

        try client.ping(42)
        #expect(client.pingAcknowledgements.count == 1)
        let id = try client.call("/test.Service/Reverse", messages: [[1, 2, 3]])
        #expect(client.data[id] == framed([3, 2, 1]))
        #expect(client.pingAcknowledgements == [0x0102_0304_0506_0708, 42])
        // Nothing is left waiting: the held acknowledgement's timer finds nothing to send.
        client.channel.embeddedEventLoop.advanceTime(by: GRPCConnectionHandler.pingAcknowledgementDelay)
        try client.pump()
        #expect(client.pingAcknowledgements.count == 2)
    }

    @Test("a burst of PINGs is acknowledged at once, without waiting")
    func pingBurst() throws {
        let client = try InMemoryClient(router: router())
        for payload in 1...16 { client.session.submitPing(UInt64(payload)) }
        try client.pump()
        #expect(client.pingAcknowledgements == (1...16).map { UInt64($0) })
    }

    @Test(
        "responses large and small, spanning DATA frames sent without copying, arrive whole and in order",
        arguments: [1, 4, 5, 17, 60])
    func largeResponses(thousands: Int) throws {
        let client = try InMemoryClient(router: router())
        let small = try client.call("/test.Service/Reverse", messages: [[1, 2, 3]])
        let large = try client.call("/test.Service/Expand", messages: [[9, UInt8(thousands)]])
        let after = try client.call("/test.Service/Reverse", messages: [[4, 5]])
        var expected = [UInt8](repeating: 9, count: thousands * 1000)
        for index in stride(from: 0, to: expected.count, by: 97) { expected[index] = UInt8(index % 251) }
        #expect(client.data[small] == framed([3, 2, 1]))
        #expect(client.data[large] == framed(expected))
        #expect(client.value("grpc-status", on: large) == "0")
        #expect(client.data[after] == framed([5, 4]))
    }

    @Test("a producer that flushes early and resumes from inside a flush sends everything once, in order")
    func floodWithEarlyFlushes() throws {
        let client = try InMemoryClient(router: router())
        let id = try client.call("/test.Service/Flood", messages: [[3]])  // 300 messages, 150 KB: many windows
        #expect(client.data[id] == (0..<300).flatMap { framed(Flood.message($0)) })
        #expect(client.value("grpc-status", on: id) == "0")
    }

    @Test(
        "a streaming call's requests wait while its responses are unread: the client's window for the stream shuts; once it reads, every request is answered in order, then the end it sent"
    )
    func requestsHeldBehindUnreadResponses() throws {
        let received = NIOLockedValueBox(0)
        var router = GRPCRouter()
        router.registerStreaming(service: "test.Service", method: "Amplify") {
            Amplify(stream: $0, received: received)
        }
        let client = try InMemoryClient(router: router)
        client.stopReading()
        // 300 requests of 1 KiB, each answered with 1 KiB: 300 KiB of requests, far beyond the stream's 64 KiB window.
        let requests = (0..<300).map { [UInt8($0 % 251), 1] + [UInt8](repeating: 0, count: 1022) }
        let id = try client.call("/test.Service/Amplify", messages: requests)
        let taken = received.withLockedValue { $0 }
        // Taken: what the client's 64 KiB window let out, plus the 8 KiB the queue holds before requests wait.
        #expect(taken > 0 && taken < 100, "requests taken while the client read nothing: \(taken)")
        #expect(client.unsentBytes(id) > 0, "the server's window for the stream stayed open")
        #expect(client.value("grpc-status", on: id) == nil)

        try client.resumeReading()
        #expect(received.withLockedValue { $0 } == 300)
        let answers = client.data[id] ?? []
        let inOrder = answers == requests.flatMap { framed([UInt8](repeating: $0[0], count: 1024)) }
        #expect(inOrder, "\(answers.count) bytes of answers, not the 300 expected in order")
        #expect(client.value("grpc-status", on: id) == "0")
    }

    @Test("keepalive: an idle peer is pinged after the interval; one that answers stays, one that does not is closed")
    func keepalive() throws {
        let client = try InMemoryClient(router: router(), keepalive: (interval: .seconds(10), timeout: .seconds(5)))
        let loop = client.channel.embeddedEventLoop
        // Idle: pinged 10 s after it was last heard from, at 10, 20 and 30 s; it answers each at once.
        for round in 0..<3 {
            loop.advanceTime(by: .seconds(round == 0 ? 10 : 5))
            try client.pump()
            #expect(client.pings.count == round + 1)
            loop.advanceTime(by: .seconds(5))
            #expect(client.channel.isActive)
        }
        // Activity postpones the ping: last heard at 30 s, a call at 39, 47 and 55 s (each within 10 s of the one
        // before) and no ping; then idle again, pinged at 65 s.
        for wait in [4, 8, 8] {
            loop.advanceTime(by: .seconds(Int64(wait)))
            try client.call("/test.Service/Reverse", messages: [[1]])
        }
        #expect(client.pings.count == 3, "no PING while the peer is active")
        loop.advanceTime(by: .seconds(10))
        #expect(try client.channel.readOutbound(as: ByteBuffer.self) != nil, "pinged once idle again")
        // It does not answer: closed once the ping has gone unanswered for the timeout.
        loop.advanceTime(by: .seconds(4))
        #expect(client.channel.isActive)
        loop.advanceTime(by: .seconds(1))
        #expect(!client.channel.isActive, "closed once the ping went unanswered for the timeout")
    }

    @Test("an unknown method gets a trailers-only UNIMPLEMENTED; the connection stays usable")
    func unknownMethod() throws {
        let client = try InMemoryClient(router: router())
        let id = try client.call("/test.Service/Nope", messages: [[]])
        #expect(client.value("grpc-status", on: id) == "12")
        #expect(client.value("grpc-message", on: id) == "unknown method Nope for service test.Service")
        #expect(client.data[id] == nil)
        let next = try client.call("/test.Service/Reverse", messages: [[9]])
        #expect(client.data[next] == framed([9]))
    }

    @Test("a message over the receive limit is RESOURCE_EXHAUSTED for that stream only")
    func oversized() throws {
        let client = try InMemoryClient(router: router())
        let id = try client.call("/test.Service/Reverse", messages: [Array(repeating: 7, count: 2000)])
        #expect(client.value("grpc-status", on: id) == "8")
        let next = try client.call("/test.Service/Reverse", messages: [[1, 2]])
        #expect(client.value("grpc-status", on: next) == "0")
    }

    @Test("a non-gRPC content-type is HTTP 415")
    func contentType() throws {
        let client = try InMemoryClient(router: router())
        let id = try client.call("/test.Service/Reverse", messages: [[1]], contentType: "text/plain")
        #expect(client.value(":status", on: id) == "415")
    }

    @Test("a streaming call echoes in order; a client reset cancels its handler exactly once")
    func streamingAndReset() throws {
        let client = try InMemoryClient(router: router())
        let before = Echo.cancellations.withLockedValue { $0 }
        let id = try client.call("/test.Service/Echo", messages: [[1], [2, 2], []], end: false)
        #expect(client.data[id] == framed([1]) + framed([2, 2]) + framed([]))
        try client.reset(id)
        #expect(Echo.cancellations.withLockedValue { $0 } == before + 1)
        #expect(client.closed[id] == 8)
    }
}
