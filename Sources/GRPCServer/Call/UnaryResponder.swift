import NIOCore

/// Completes a unary call, from any thread, exactly once; later completions are ignored.
public struct UnaryResponder: Sendable {
    /// Where the outcome goes.
    private enum Target: Sendable {
        /// The call's HTTP/2 stream, usable only on its event loop.
        case stream(NIOLoopBound<GRPCServerStream>, any EventLoop)
        /// A caller without a stream (``GRPCRouter/callUnary(path:request:eventLoop:logger:reply:)``).
        case callback(@Sendable (Result<[UInt8], GRPCStatus>) -> Void)
    }

    private let target: Target

    init(stream: NIOLoopBound<GRPCServerStream>, eventLoop: any EventLoop) {
        target = .stream(stream, eventLoop)
    }

    init(callback: @escaping @Sendable (Result<[UInt8], GRPCStatus>) -> Void) {
        target = .callback(callback)
    }

    /// Sends the response message and an OK status, or ends the call with `result`'s error status.
    public func respond(_ result: Result<[UInt8], GRPCStatus>) {
        switch target {
        case .stream(let stream, let eventLoop):
            if eventLoop.inEventLoop {
                stream.value.completeUnary(result)
            } else {
                eventLoop.execute { stream.value.completeUnary(result) }
            }
        case .callback(let callback):
            callback(result)
        }
    }
}
