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
    /// The connection's logger, without this call's metadata (see ``logger``).
    let connectionLogger: Logger
    /// The HTTP/2 stream the call arrived on.
    let streamID: HTTP2StreamID

    /// A logger carrying the connection, stream and method in its metadata. Built on use: attaching metadata costs
    /// a dictionary copy and two string conversions, which every call would pay while most never log.
    public var logger: Logger {
        var logger = connectionLogger
        logger[metadataKey: "grpc.stream"] = "\(streamID)"
        logger[metadataKey: "grpc.method"] = "\(head.path)"
        return logger
    }
}
