@testable import GRPCServer
import Logging
import NIOCore
import NIOEmbedded
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Records the errors and accepted channels that pass the handler under test.
private final class PassedOn: ChannelInboundHandler {
    typealias InboundIn = any Channel
    var errors: [any Error] = []
    var accepted = 0

    func errorCaught(context: ChannelHandlerContext, error: any Error) { errors.append(error) }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { accepted += 1 }
}

@Suite("waiting between failed accepts")
struct AcceptRetryBackoffTests {
    private let backoff = AcceptRetryBackoff(logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    private let passedOn = PassedOn()
    private let listener: EmbeddedChannel

    init() throws {
        listener = EmbeddedChannel()
        try listener.pipeline.syncOperations.addHandlers([backoff, passedOn])
    }

    private func failAccept(_ errno: CInt) {
        listener.pipeline.fireErrorCaught(IOError(errnoCode: errno, reason: "accept"))
    }

    @Test("a shortage of descriptors waits 5 ms, doubling per failure in a row up to a second; it is not passed on")
    func doubling() {
        var expected: [Int64] = []
        var delays: [Int64] = []
        var wait = AcceptRetryBackoff.initialDelay
        for _ in 0..<12 {
            failAccept(EMFILE)
            #expect(backoff.isWaiting)
            delays.append(backoff.delay!.nanoseconds / 1_000_000)
            expected.append(wait.nanoseconds / 1_000_000)
            listener.embeddedEventLoop.advanceTime(by: backoff.delay!)
            #expect(!backoff.isWaiting, "accepting resumes once the wait is over")
            wait = min(wait * 2, AcceptRetryBackoff.maximumDelay)
        }
        #expect(delays == expected)
        #expect(delays.prefix(4) == [5, 10, 20, 40])
        #expect(delays.last == 1000)
        #expect(passedOn.errors.isEmpty)
    }

    @Test("failures during a wait do not lengthen it; an accepted connection ends the shortage")
    func resets() throws {
        failAccept(ENFILE)
        failAccept(ENFILE)
        #expect(backoff.delay == AcceptRetryBackoff.initialDelay)
        listener.embeddedEventLoop.advanceTime(by: .milliseconds(5))
        failAccept(ENOBUFS)
        #expect(backoff.delay == .milliseconds(10))
        listener.embeddedEventLoop.advanceTime(by: .milliseconds(10))
        try listener.writeInbound(EmbeddedChannel() as any Channel)
        #expect(passedOn.accepted == 1)
        #expect(backoff.delay == nil)
        failAccept(ENOMEM)
        #expect(backoff.delay == AcceptRetryBackoff.initialDelay, "the next shortage starts from the shortest wait")
    }

    @Test("other accept errors pass on at once and cost no wait")
    func otherErrors() {
        failAccept(ECONNABORTED)
        #expect(!backoff.isWaiting)
        #expect(passedOn.errors.count == 1)
        listener.pipeline.fireErrorCaught(ChannelError.ioOnClosedChannel)
        #expect(passedOn.errors.count == 2)
    }

    @Test("closing the listener cancels a pending resumption")
    func close() throws {
        failAccept(EMFILE)
        #expect(backoff.isWaiting)
        _ = try listener.finish()
        #expect(!backoff.isWaiting)
    }
}
