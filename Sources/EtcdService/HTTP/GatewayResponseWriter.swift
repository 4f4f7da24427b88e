import EtcdProto
import GRPCServer
import NIOCore

/// A streaming call's responses as etcd's JSON gateway writes them (grpc-gateway v1's `ForwardResponseStream`):
/// each message as a `{"result":…}` line, sent at the end of the event-loop turn; an error status as an
/// `{"error":{…}}` chunk (with the error's HTTP status when nothing was written before); the call's end as the end
/// of the body. Confined to the connection's event loop.
final class GatewayResponseWriter: GRPCResponseWriter {
    private let response: PlainHTTPResponseStream
    /// The method's response message, for turning each into JSON.
    private let schema: MessageSchema
    /// The handler writing here, cancelled when the writer ends the call itself (``abort(with:)``). Weak: the
    /// handler holds its writer.
    weak var handler: (any GRPCStreamHandler)?
    /// Whether a message was written (grpc-gateway's `wroteHeader`).
    private var wroteMessage = false
    /// Whether the call ended; later sends are dropped.
    private var finished = false
    /// Whether a flush is scheduled for the end of this event-loop turn.
    private var flushScheduled = false

    init(response: PlainHTTPResponseStream, schema: MessageSchema) {
        self.response = response
        self.schema = schema
        response.headers["Content-Type"] = "application/json"
    }

    var eventLoop: any EventLoop { response.eventLoop }

    var isWritable: Bool { !finished && response.isWritable }

    func send(count: Int, length: (Int) -> Int, body: (Int, inout MessageWriter) -> Void) {
        for index in 0..<count where !finished {
            write(MessageWriter.bytes(length: length(index)) { body(index, &$0) })
        }
    }

    func send(headLength: Int, attachments: [ByteBuffer], body: (inout MessageWriter) -> Void) {
        guard !finished else { return }
        var message = MessageWriter.bytes(length: headLength, body: body)
        for attachment in attachments { message += attachment.readableBytesView }
        write(message)
    }

    func flush() {
        response.flush()
    }

    func finish(_ status: GRPCStatus) {
        guard !finished else { return }
        finished = true
        if status.code != .ok {
            if !wroteMessage { response.status = JSONGateway.httpStatus(status.code) }
            response.write(Array(JSONGateway.streamError(status).utf8))
        }
        response.end()
    }

    func abort(with status: GRPCStatus) {
        guard !finished else { return }
        handler?.cancelled()
        finish(status)
    }

    /// Writes one response message as a JSON line.
    private func write(_ message: [UInt8]) {
        let json: String
        do throws(ProtoJSON.Failure) {
            json = try ProtoJSON.json(of: message, as: schema)
        } catch {
            abort(with: GRPCStatus(.internal, error.message))
            return
        }
        if !wroteMessage {
            wroteMessage = true
            // The gRPC response headers the gateway received, as grpc-gateway forwards them.
            response.headers["Grpc-Metadata-Content-Type"] = "application/grpc"
        }
        response.write(Array((#"{"result":"# + json + "}\n").utf8))
        if !flushScheduled {
            flushScheduled = true
            let writer = NIOLoopBound(self, eventLoop: eventLoop)
            eventLoop.execute {
                writer.value.flushScheduled = false
                writer.value.response.flush()
            }
        }
    }
}
