import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix

/// A gRPC server over h2c (HTTP/2 with prior knowledge) on plain TCP: accepts connections on every listen address
/// and serves the methods of one ``GRPCRouter`` on each.
///
/// Lifecycle: ``start(listening:)`` binds every address (failing without leaving any bound when one fails),
/// ``shutDownGracefully()`` stops accepting, sends GOAWAY on every connection, ends streaming calls with
/// ``GRPCServerConfiguration/shutdownStatus``, lets unary calls finish, and closes what is still open after the grace
/// period.
public final class GRPCServer: Sendable {
    /// A host and port to listen on.
    public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { "\(host):\(port)" }
    }

    private let group: any EventLoopGroup
    private let router: GRPCRouter
    private let configuration: GRPCServerConfiguration

    /// What the server holds while it runs, guarded by the lock.
    private struct State {
        var listeners: [any Channel] = []
        /// Every open connection, by an ID the connection's close callback removes.
        var connections: [Int: NIOLoopBound<GRPCConnectionHandler>] = [:]
        var nextConnectionID = 0
        var shuttingDown = false
    }

    private let state = NIOLockedValueBox(State())

    public init(group: any EventLoopGroup, router: GRPCRouter, configuration: GRPCServerConfiguration) {
        self.group = group
        self.router = router
        self.configuration = configuration
    }

    /// Binds every address and starts accepting.
    ///
    /// - Returns: the addresses actually bound (port 0 resolves to the chosen port).
    /// - Throws: the bind error of the first address that failed; nothing stays bound then.
    public func start(listening addresses: [ListenAddress]) async throws -> [SocketAddress] {
        let bound = try await makeBootstrap().bindAll(addresses)
        state.withLockedValue { $0.listeners.append(contentsOf: bound) }
        return bound.compactMap { $0.localAddress }
    }

    private func makeBootstrap() -> ServerBootstrap {
        let configuration = self.configuration
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { AcceptRetryBackoff.install(on: $0, logger: configuration.logger) }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelInitializer { [weak self] channel in
                guard let self else { return channel.eventLoop.makeSucceededVoidFuture() }
                return channel.eventLoop.makeCompletedFuture {
                    guard let responder = configuration.plainHTTP else {
                        try self.installGRPC(on: channel, position: .last)
                        return
                    }
                    let sniffer = ProtocolSniffer(
                        installHTTP2: { [weak self] context in
                            guard let self else { throw ChannelError.ioOnClosedChannel }
                            try self.installGRPC(on: context.channel, position: .after(context.handler))
                        },
                        installHTTP1: { context in
                            try PlainHTTPHandler.install(
                                in: context.pipeline.syncOperations, after: context.handler, responder: responder)
                        })
                    try channel.pipeline.syncOperations.addHandler(sniffer)
                }
            }
    }

    /// Adds a gRPC connection handler to `channel` and remembers the connection until it closes; closes the
    /// channel instead once a shutdown began.
    private func installGRPC(on channel: any Channel, position: ChannelPipeline.SynchronousOperations.Position) throws {
        let id = state.withLockedValue { state -> Int? in
            guard !state.shuttingDown else { return nil }
            defer { state.nextConnectionID += 1 }
            return state.nextConnectionID
        }
        guard let id else {
            channel.close(promise: nil)
            return
        }
        let handler = GRPCConnectionHandler(
            router: router, configuration: configuration, eventLoop: channel.eventLoop,
            onClose: { [weak self] in self?.state.withLockedValue { _ = $0.connections.removeValue(forKey: id) } })
        state.withLockedValue { $0.connections[id] = NIOLoopBound(handler, eventLoop: channel.eventLoop) }
        try channel.pipeline.syncOperations.addHandler(handler, position: position)
    }

    /// The number of open connections.
    public var connectionCount: Int { state.withLockedValue { $0.connections.count } }

    /// Stops accepting, drains every connection, and returns once all are closed (or the grace period ran out and
    /// the rest were closed).
    public func shutDownGracefully() async {
        let (listeners, connections) = state.withLockedValue { state in
            state.shuttingDown = true
            defer { state.listeners.removeAll() }
            return (state.listeners, Array(state.connections.values))
        }
        for listener in listeners { try? await listener.close() }
        for connection in connections {
            connection.eventLoop.execute { connection.value.beginGracefulShutdown() }
        }
        let deadline = NIODeadline.now() + .seconds(configuration.shutdownGracePeriodSeconds)
        while connectionCount > 0 && NIODeadline.now() < deadline {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        let remaining = state.withLockedValue { Array($0.connections.values) }
        for connection in remaining {
            connection.eventLoop.execute { connection.value.closeNow() }
        }
        while connectionCount > 0 {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
    }
}
