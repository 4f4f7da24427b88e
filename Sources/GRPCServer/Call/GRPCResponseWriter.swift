public import NIOCore

/// Where a streaming handler writes its response messages: a gRPC call's HTTP/2 stream (``GRPCServerStream``), or
/// another transport carrying the same messages (etcd's JSON gateway streams them as JSON lines over HTTP/1.1).
///
/// Used on ``eventLoop`` only. A writer and the handler writing to it reference each other until the call ends;
/// when the writer ends the call itself (``abort(with:)``, the peer gone) it tells the handler (`cancelled()`).
public protocol GRPCResponseWriter: AnyObject {
    /// The event loop the call runs on.
    var eventLoop: any EventLoop { get }

    /// Whether the producer may send more: false while the peer is not reading fast enough, and once the call
    /// ended. The handler's `becameWritable()` reports the change back.
    var isWritable: Bool { get }

    /// Sends `count` response messages in one go: message `i` is `length(i)` bytes, which `body(i, &writer)`
    /// writes (exactly that many). Dropped if the call has ended.
    func send(count: Int, length: (Int) -> Int, body: (Int, inout MessageWriter) -> Void)

    /// Sends one response message: `headLength` bytes that `body` writes, then `attachments` as they are. Dropped
    /// if the call has ended.
    func send(headLength: Int, attachments: [ByteBuffer], body: (inout MessageWriter) -> Void)

    /// Writes the messages sent so far now rather than at the end of the event-loop turn.
    func flush()

    /// Ends the call with `status` (OK or an error). Later sends and finishes are ignored.
    func finish(_ status: GRPCStatus)

    /// Ends a running call with an error the server detected; the handler is cancelled first.
    func abort(with status: GRPCStatus)
}

extension GRPCResponseWriter {
    /// Sends one response message. Dropped if the call has ended.
    public func send(_ message: [UInt8]) {
        send(length: message.count) { $0.write(message) }
    }

    /// Sends one response message of `length` bytes, which `body` writes (exactly `length` bytes). Dropped if the
    /// call has ended.
    public func send(length: Int, body: (inout MessageWriter) -> Void) {
        send(count: 1) { _ in length } body: { _, message in body(&message) }
    }
}
