import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sits on a listening channel and keeps it from spinning when accepting fails for want of resources: out of file
/// descriptors (`EMFILE`, `ENFILE`) or of kernel memory (`ENOBUFS`, `ENOMEM`). The pending connection stays in the
/// kernel's backlog, so the listener stays readable, and NIO tries again on every event-loop turn — a core at 100 %
/// for as long as the shortage lasts, taken from the clients already connected (NIO's own `AcceptBackoffHandler`
/// holds back reads, which a failed accept never asked for, so the listener stays registered and spins all the
/// same). This handler stops watching the listener instead (`autoRead` off) and resumes after a wait, as Go's
/// `net/http` server (etcd's) sleeps between failed accepts: 5 ms, doubling with each failure in a row up to a
/// second, back to none once a connection is accepted. Each wait is logged with the error.
///
/// Other accept errors pass on unchanged (NIO closes the listener on those it cannot recover from; an `ECONNABORTED`,
/// a client gone before it was accepted, costs no wait).
final class AcceptRetryBackoff: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    /// The first wait after a failure.
    static let initialDelay = TimeAmount.milliseconds(5)
    /// The longest wait.
    static let maximumDelay = TimeAmount.seconds(1)

    private let logger: Logger
    /// The wait after the last failure; nil while accepting works.
    private(set) var delay: TimeAmount?
    /// The task that resumes accepting, while the listener waits.
    private var resumption: Scheduled<Void>?

    init(logger: Logger) {
        self.logger = logger
    }

    /// Installs a fresh instance on a listening channel (for `ServerBootstrap.serverChannelInitializer`).
    static func install(on channel: any Channel, logger: Logger) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(AcceptRetryBackoff(logger: logger))
        }
    }

    /// Whether `errno` from `accept` means a shortage that passes with time.
    static func isShortage(_ errno: CInt) -> Bool {
        errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM
    }

    /// Whether the listener is waiting before it accepts again.
    var isWaiting: Bool { resumption != nil }

    /// A connection was accepted: the shortage, if there was one, is over.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        delay = nil
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let ioError = error as? IOError, Self.isShortage(ioError.errnoCode) else {
            context.fireErrorCaught(error)
            return
        }
        guard resumption == nil else { return }
        let next = delay.map { Swift.min($0 * 2, Self.maximumDelay) } ?? Self.initialDelay
        delay = next
        logger.warning(
            "accepting a connection failed; retrying",
            metadata: ["error": "\(ioError)", "retry_in_ms": "\(next.nanoseconds / 1_000_000)"])
        let channel = context.channel
        setAutoRead(false, of: channel)
        resumption = context.eventLoop.assumeIsolated().scheduleTask(in: next) { [self] in
            resumption = nil
            setAutoRead(true, of: channel)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        resumption?.cancel()
        resumption = nil
        context.fireChannelInactive()
    }

    /// Turns the listener's reads off (it is no longer watched for connections) or back on.
    private func setAutoRead(_ enabled: Bool, of channel: any Channel) {
        if let options = channel.syncOptions {
            try? options.setOption(.autoRead, value: enabled)
        } else {
            _ = channel.setOption(.autoRead, value: enabled)
        }
    }
}

@available(*, unavailable)
extension AcceptRetryBackoff: Sendable {}
