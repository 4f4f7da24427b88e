import EtcdProto
public import GRPCServer

/// `etcdserverpb.KV`: Range, Put, DeleteRange, Txn and Compact, served from an ``EtcdStore``.
public enum KVService {
    public static let serviceName = "etcdserverpb.KV"

    /// Registers the five methods. Writes whose request exceeds `maxRequestBytes` are refused with etcd's
    /// "request is too large" (etcd measures its raft proposal; Vigil measures the request message).
    public static func register(into router: inout GRPCRouter, store: EtcdStore, maxRequestBytes: Int) {
        router.registerUnary(service: serviceName, method: "Range") { bytes, _, responder in
            responder.respond(serve(bytes, as: RangeRequest.self) { (request) throws(EtcdError) in try store.range(request) })
        }
        router.registerUnary(service: serviceName, method: "Put") { bytes, _, responder in
            responder.respond(serveWrite(bytes, limit: maxRequestBytes, as: PutRequest.self) { (request) throws(EtcdError) in try store.put(request) })
        }
        router.registerUnary(service: serviceName, method: "DeleteRange") { bytes, _, responder in
            responder.respond(
                serveWrite(bytes, limit: maxRequestBytes, as: DeleteRangeRequest.self) { (request) throws(EtcdError) in try store.deleteRange(request) })
        }
        router.registerUnary(service: serviceName, method: "Txn") { bytes, _, responder in
            responder.respond(serveWrite(bytes, limit: maxRequestBytes, as: TxnRequest.self) { (request) throws(EtcdError) in try store.txn(request) })
        }
        router.registerUnary(service: serviceName, method: "Compact") { bytes, _, responder in
            responder.respond(serve(bytes, as: CompactionRequest.self) { (request) throws(EtcdError) in try store.compact(request) })
        }
    }
}

/// Decodes a request, runs it, and encodes the response or maps the error to its gRPC status.
func serve<Request: ProtoDecodable, Response: ProtoEncodable>(
    _ bytes: [UInt8], as: Request.Type, _ body: (Request) throws(EtcdError) -> Response
) -> Result<[UInt8], GRPCStatus> {
    let request: Request
    do {
        request = try Request(protobufBytes: bytes)
    } catch {
        // grpc-go's wording for a request it cannot unmarshal.
        return .failure(GRPCStatus(.internal, "grpc: error unmarshalling request: \(error)"))
    }
    do {
        return .success(try body(request).protobufBytes())
    } catch {
        return .failure(error.status)
    }
}

/// ``serve(_:as:_:)`` for writes, which etcd limits to `--max-request-bytes`.
func serveWrite<Request: ProtoDecodable, Response: ProtoEncodable>(
    _ bytes: [UInt8], limit: Int, as type: Request.Type, _ body: (Request) throws(EtcdError) -> Response
) -> Result<[UInt8], GRPCStatus> {
    if bytes.count > limit { return .failure(EtcdError.requestTooLarge.status) }
    return serve(bytes, as: type, body)
}
