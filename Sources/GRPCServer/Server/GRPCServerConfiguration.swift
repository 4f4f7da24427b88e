public import Logging
public import NIOCore

/// Tunables of the gRPC server, with documented defaults.
public struct GRPCServerConfiguration: Sendable {
    /// Largest request message accepted, in bytes (grpc-go's receive limit). etcd sets it to
    /// `--max-request-bytes` + 512 KiB, so 2 MiB by default.
    public var maxReceiveMessageLength: Int = 2 * 1024 * 1024

    /// SETTINGS_MAX_CONCURRENT_STREAMS advertised to clients. etcd advertises 2^32-1 (unlimited).
    public var maxConcurrentStreams: UInt32 = .max

    /// A stream whose queued response bytes exceed this stops being writable (its producer should pause).
    public var outboundHighWatermark: Int = 1024 * 1024

    /// A stream that stopped being writable becomes writable again once its queue drains to this many bytes.
    public var outboundLowWatermark: Int = 256 * 1024

    /// Most bytes written to the socket in one flush; the rest goes out on the next event-loop turn.
    public var maxWriteBatchBytes: Int = 1024 * 1024

    /// Idle time after which the server pings a connection's peer (etcd's `--grpc-keepalive-interval`, 2 h); nil
    /// never pings. See ``ServerKeepalive``.
    public var keepaliveInterval: TimeAmount? = .hours(2)

    /// How long an unanswered keepalive ping is waited for before the connection closes (etcd's
    /// `--grpc-keepalive-timeout`, 20 s).
    public var keepaliveTimeout: TimeAmount = .seconds(20)

    /// The status streaming calls end with when the server shuts down.
    public var shutdownStatus = GRPCStatus(.unavailable, "server is shutting down")

    /// How long a graceful shutdown waits for in-flight calls before closing connections, in seconds.
    public var shutdownGracePeriodSeconds: Int64 = 10

    /// Answers plain HTTP/1.x requests on the same port (etcd's `/health`, `/version`, `/metrics`); nil serves
    /// HTTP/2 only. With one, each connection's first bytes decide its protocol (``ProtocolSniffer``).
    public var plainHTTP: (any PlainHTTPResponder)?

    /// Where connections log. Library code never creates its own logger.
    public var logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }
}
