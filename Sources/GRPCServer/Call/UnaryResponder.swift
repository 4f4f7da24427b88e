import NIOCore

/// Completes a unary call, from any thread, exactly once; later completions are ignored.
public struct UnaryResponder: Sendable {
    /// The call, usable only on its event loop.
    let stream: NIOLoopBound<GRPCServerStream>
    let eventLoop: any EventLoop

    /// Sends the response message and an OK status, or ends the call with `result`'s error status.
    public func respond(_ result: Result<[UInt8], GRPCStatus>) {
        if eventLoop.inEventLoop {
            stream.value.completeUnary(result)
        } else {
            let stream = self.stream
            eventLoop.execute { stream.value.completeUnary(result) }
        }
    }
}
