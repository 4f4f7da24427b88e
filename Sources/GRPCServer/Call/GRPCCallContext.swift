public import Logging
public import NIOCore

/// What a handler knows about the call it serves.
public struct GRPCCallContext: Sendable {
    /// The request's validated HEADERS.
    public let head: GRPCRequestHead
    /// When the client's `grpc-timeout` runs out, if it set one.
    public let deadline: NIODeadline?
    /// The event loop the call lives on; handler callbacks run here.
    public let eventLoop: any EventLoop
    /// A logger carrying the connection and stream in its metadata.
    public let logger: Logger
}
