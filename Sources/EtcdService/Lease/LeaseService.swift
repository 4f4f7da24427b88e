import EtcdProto
public import GRPCServer

/// `etcdserverpb.Lease`: grant, revoke, keep-alive (a bidirectional stream), time-to-live and listing.
public enum LeaseService {
    public static let serviceName = "etcdserverpb.Lease"

    public static func register(into router: inout GRPCRouter, store: EtcdStore) {
        router.registerUnary(service: serviceName, method: "LeaseGrant") { bytes, _, responder in
            serveWrite(bytes, limit: Int.max, as: LeaseGrantRequest.self, responder: responder) {
                store.leaseGrant($0, reply: $1)
            }
        }
        router.registerUnary(service: serviceName, method: "LeaseRevoke") { bytes, _, responder in
            serveWrite(bytes, limit: Int.max, as: LeaseRevokeRequest.self, responder: responder) {
                store.leaseRevoke($0, reply: $1)
            }
        }
        router.registerUnary(service: serviceName, method: "LeaseTimeToLive") { bytes, _, responder in
            responder.respond(serve(bytes, as: LeaseTimeToLiveRequest.self) { (r) throws(EtcdError) in store.leaseTimeToLive(r) })
        }
        router.registerUnary(service: serviceName, method: "LeaseLeases") { bytes, _, responder in
            responder.respond(serve(bytes, as: LeaseLeasesRequest.self) { (_) throws(EtcdError) in store.leaseLeases() })
        }
        router.registerStreaming(service: serviceName, method: "LeaseKeepAlive") { stream in
            LeaseKeepAliveHandler(stream: stream, store: store)
        }
    }
}

/// One LeaseKeepAlive stream: one response per request, in order; the call ends OK when the client half-closes
/// (as etcd's does).
final class LeaseKeepAliveHandler: GRPCStreamHandler {
    /// The call; nil once it ended. Touched only on the stream's event loop.
    private var stream: (any GRPCResponseWriter)?
    private let store: EtcdStore

    init(stream: any GRPCResponseWriter, store: EtcdStore) {
        self.stream = stream
        self.store = store
    }

    func receive(_ message: [UInt8]) {
        guard let stream else { return }
        do {
            let request = try LeaseKeepAliveRequest(protobufBytes: message)
            stream.send(store.leaseKeepAlive(request).protobufBytes())
        } catch {
            stream.abort(with: GRPCStatus(.internal, "grpc: error unmarshalling request: \(error)"))
        }
    }

    func receiveEnd() {
        stream?.finish(.ok)
        stream = nil
    }

    func cancelled() {
        stream = nil
    }
}
