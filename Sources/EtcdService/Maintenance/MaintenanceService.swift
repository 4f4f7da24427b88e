import EtcdProto
public import GRPCServer

/// `etcdserverpb.Maintenance`: Status, Alarm, Defragment (which rebuilds the data directory's database), Snapshot (a
/// copy of it) and HashKV (etcd's hash of the key-value history); Hash (of etcd's whole bbolt file, which Vigil does
/// not have) and the methods a single embedded member cannot honour answer `UNIMPLEMENTED` with a message saying so.
public enum MaintenanceService {
    public static let serviceName = "etcdserverpb.Maintenance"

    public static func register(into router: inout GRPCRouter, store: EtcdStore) {
        router.registerUnary(service: serviceName, method: "Status") { bytes, _, responder in
            responder.respond(serve(bytes, as: StatusRequest.self) { (_) throws(EtcdError) in store.status() })
        }
        router.registerUnary(service: serviceName, method: "Alarm") { bytes, _, responder in
            responder.respond(serve(bytes, as: AlarmRequest.self) { (request) throws(EtcdError) in store.alarm(request) })
        }
        router.registerUnary(service: serviceName, method: "Defragment") { bytes, _, responder in
            serveWrite(bytes, limit: Int.max, as: DefragmentRequest.self, responder: responder) { _, reply in
                store.defragment(reply: reply)
            }
        }
        router.registerStreaming(service: serviceName, method: "Snapshot") { stream in
            SnapshotHandler(stream: stream, store: store)
        }
        router.registerUnary(service: serviceName, method: "HashKV") { bytes, _, responder in
            serveWrite(bytes, limit: Int.max, as: HashKVRequest.self, responder: responder) {
                store.hashKV($0, reply: $1)
            }
        }
        for method in ["Hash", "MoveLeader", "Downgrade"] {
            let message = "vigil: Maintenance.\(method) is not supported by this server"
            router.registerUnary(service: serviceName, method: method) { _, _, responder in
                responder.respond(.failure(GRPCStatus(.unimplemented, message)))
            }
        }
    }
}
