/// Serves one streaming call. Created by a ``GRPCRouter/StreamHandlerFactory`` for each call and driven on the
/// call's event loop; it answers through the ``GRPCResponseWriter`` it was created with (the call's HTTP/2 stream,
/// or a JSON gateway's HTTP/1.1 response).
public protocol GRPCStreamHandler: AnyObject {
    /// One request message, in arrival order.
    func receive(_ message: [UInt8])

    /// The client half-closed: no more request messages. The call stays open until the handler finishes it.
    func receiveEnd()

    /// The call is over before the handler finished it: client reset or disconnect, deadline, or server shutdown.
    /// The handler must stop producing and release what it holds; sends are dropped from now on.
    func cancelled()

    /// The writer can take more after ``GRPCResponseWriter/isWritable`` was false (for an HTTP/2 stream: its
    /// outbound queue drained below its low watermark).
    func becameWritable()
}

extension GRPCStreamHandler {
    public func receiveEnd() {}
    public func becameWritable() {}
}
