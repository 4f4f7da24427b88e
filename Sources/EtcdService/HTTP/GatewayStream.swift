import EtcdProto
import GRPCServer

/// One streaming method served by etcd's JSON gateway (`POST /v3/watch`, `/v3/lease/keepalive`,
/// `/v3/maintenance/snapshot`): request messages are read from the body as JSON values as they arrive and fed to
/// the method's handler as a gRPC call's would be; its responses go out through a ``GatewayResponseWriter``.
///
/// As grpc-gateway v1 (etcd's) does: a first request that cannot be read fails the call before it starts (a
/// bidirectional method with code 2 and HTTP 500, a server-streaming one with code 3 and HTTP 400); a later one
/// ends the requests, as the end of the body does (the client half-closes; Watch stays open). A server-streaming
/// method takes the body's first value (or an empty request) and reads no further.
final class GatewayStream: PlainHTTPStreamHandler {
    /// How a streaming method takes its requests.
    enum Kind {
        /// Every value in the body is a request (Watch, LeaseKeepAlive).
        case bidirectional
        /// One request, the body's first value (Snapshot).
        case serverStreaming
    }

    private let kind: Kind
    /// The method's request message, for turning each JSON value into it.
    private let input: MessageSchema
    private let response: PlainHTTPResponseStream
    /// The method's handler; nil once the exchange ended.
    private var handler: (any GRPCStreamHandler)?
    /// Cuts the body into JSON values.
    private var splitter = JSONDocumentSplitter()
    /// Whether the body is still read for requests.
    private var reading = true
    /// Requests fed to the handler so far.
    private var requests = 0

    init(kind: Kind, input: MessageSchema, response: PlainHTTPResponseStream, handler: any GRPCStreamHandler) {
        self.kind = kind
        self.input = input
        self.response = response
        self.handler = handler
    }

    func receive(_ bytes: [UInt8]) {
        guard reading else { return }
        for document in splitter.append(bytes) where reading {
            forward(document)
        }
        if reading, let failure = splitter.failure { stop(failure.message) }
    }

    func receiveEnd() {
        guard reading else { return }
        if let failure = splitter.failureAtEnd { return stop(failure.message) }
        if kind == .serverStreaming {
            // grpc-gateway takes an empty body as an empty request.
            requests += 1
            handler?.receive([])
        }
        reading = false
        handler?.receiveEnd()
    }

    func becameWritable() {
        handler?.becameWritable()
    }

    func cancelled() {
        reading = false
        handler?.cancelled()
        handler = nil
    }

    /// Feeds one JSON value to the handler as its request message.
    private func forward(_ document: [UInt8]) {
        let message: [UInt8]
        do throws(ProtoJSON.Failure) {
            message = try ProtoJSON.encode(json: document, as: input)
        } catch {
            return stop(error.message)
        }
        requests += 1
        handler?.receive(message)
        if kind == .serverStreaming {
            reading = false
            handler?.receiveEnd()
        }
    }

    /// A request that cannot be read: before the first, the call fails as a whole; after it, requests end.
    private func stop(_ message: String) {
        reading = false
        guard requests == 0 else {
            handler?.receiveEnd()
            return
        }
        handler?.cancelled()
        handler = nil
        let code: GRPCStatus.Code = kind == .serverStreaming ? .invalidArgument : .unknown
        response.respond(JSONGateway.failure(GRPCStatus(code, message)))
    }
}
