public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix

/// A listener that speaks plain HTTP/1.1 only, through a ``PlainHTTPResponder``: etcd's `--listen-metrics-urls`,
/// where `/metrics` and `/health` are served apart from client traffic.
public final class PlainHTTPServer: Sendable {
    private let group: any EventLoopGroup
    private let responder: any PlainHTTPResponder
    /// Where the listener logs (accept failures).
    private let logger: Logger
    /// The bound listeners, closed by ``shutDown()``.
    private let listeners = NIOLockedValueBox<[any Channel]>([])

    public init(group: any EventLoopGroup, responder: any PlainHTTPResponder, logger: Logger) {
        self.group = group
        self.responder = responder
        self.logger = logger
    }

    /// Binds every address and starts accepting.
    ///
    /// - Returns: the addresses actually bound.
    /// - Throws: the bind error of the first address that failed; nothing stays bound then.
    public func start(listening addresses: [GRPCServer.ListenAddress]) async throws -> [SocketAddress] {
        let (responder, logger) = (self.responder, self.logger)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { AcceptRetryBackoff.install(on: $0, logger: logger) }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try PlainHTTPHandler.install(in: channel.pipeline.syncOperations, responder: responder)
                }
            }
        let bound = try await bootstrap.bindAll(addresses)
        listeners.withLockedValue { $0.append(contentsOf: bound) }
        return bound.compactMap { $0.localAddress }
    }

    /// Stops accepting; open connections end with the event loop group.
    public func shutDown() async {
        for channel in listeners.withLockedValue({ $0 }) { try? await channel.close() }
    }
}
