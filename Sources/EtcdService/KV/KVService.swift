import EtcdProto
public import GRPCServer

/// `etcdserverpb.KV`: Range, Put, DeleteRange, Txn and Compact, served from an ``EtcdStore``.
public enum KVService {
    public static let serviceName = "etcdserverpb.KV"

    /// Registers the five methods. Writes whose request exceeds `maxRequestBytes` are refused with etcd's
    /// "request is too large" (etcd measures its raft proposal; Vigil measures the request message).
    public static func register(into router: inout GRPCRouter, store: EtcdStore, maxRequestBytes: Int) {
        router.registerUnary(service: serviceName, method: "Range") { bytes, _, responder in
            // A large read is answered from another thread: its answer is encoded there too.
            serveLater(bytes, as: RangeRequest.self, responder: responder) { store.range($0, reply: $1) }
        }
        router.registerUnary(service: serviceName, method: "Put") { bytes, _, responder in
            serveWrite(bytes, limit: maxRequestBytes, as: PutRequest.self, responder: responder) { store.put($0, reply: $1) }
        }
        router.registerUnary(service: serviceName, method: "DeleteRange") { bytes, _, responder in
            serveWrite(bytes, limit: maxRequestBytes, as: DeleteRangeRequest.self, responder: responder) {
                store.deleteRange($0, reply: $1)
            }
        }
        router.registerUnary(service: serviceName, method: "Txn") { bytes, _, responder in
            serveWrite(bytes, limit: maxRequestBytes, as: TxnRequest.self, responder: responder) { store.txn($0, reply: $1) }
        }
        router.registerUnary(service: serviceName, method: "Compact") { bytes, _, responder in
            serveWrite(bytes, limit: Int.max, as: CompactionRequest.self, responder: responder) {
                store.compact($0, reply: $1)
            }
        }
    }
}

/// Decodes a request, or gives the status grpc-go answers for bytes it cannot unmarshal.
func decodeRequest<Request: ProtoDecodable>(_ bytes: [UInt8], as: Request.Type) -> Result<Request, GRPCStatus> {
    do {
        return .success(try Request(protobufBytes: bytes))
    } catch {
        return .failure(GRPCStatus(.internal, "grpc: error unmarshalling request: \(error)"))
    }
}

/// Decodes a request, runs it, and encodes the response or maps the error to its gRPC status.
func serve<Request: ProtoDecodable, Response: ProtoEncodable>(
    _ bytes: [UInt8], as type: Request.Type, _ body: (Request) throws(EtcdError) -> Response
) -> Result<[UInt8], GRPCStatus> {
    decodeRequest(bytes, as: type).flatMap { request in
        do throws(EtcdError) {
            return .success(try body(request).protobufBytes())
        } catch {
            return .failure(error.status)
        }
    }
}

/// Serves a write, which etcd limits to `--max-request-bytes` and which answers once it is durable: `body` gets the
/// request and a reply callback that may run later, on another thread.
func serveWrite<Request: ProtoDecodable, Response: ProtoEncodable>(
    _ bytes: [UInt8], limit: Int, as type: Request.Type, responder: UnaryResponder,
    _ body: (Request, @escaping @Sendable (Result<Response, EtcdError>) -> Void) -> Void
) {
    if bytes.count > limit {
        responder.respond(.failure(EtcdError.requestTooLarge.status))
        return
    }
    serveLater(bytes, as: type, responder: responder, body)
}

/// Decodes a request and hands it to `body` with a reply callback that may run later, on another thread; the
/// callback encodes the response (on that thread) or maps the error to its gRPC status.
func serveLater<Request: ProtoDecodable, Response: ProtoEncodable>(
    _ bytes: [UInt8], as type: Request.Type, responder: UnaryResponder,
    _ body: (Request, @escaping @Sendable (Result<Response, EtcdError>) -> Void) -> Void
) {
    switch decodeRequest(bytes, as: type) {
    case .failure(let status):
        responder.respond(.failure(status))
    case .success(let request):
        body(request) { result in
            responder.respond(result.map { $0.protobufBytes() }.mapError(\.status))
        }
    }
}
