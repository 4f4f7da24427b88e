import EtcdProto
public import GRPCServer

/// `etcdserverpb.Maintenance`: Status, Alarm, Defragment (which rebuilds the data directory's database), Snapshot (a
/// copy of it), HashKV (etcd's hash of the key-value history) and Hash (the same hash: etcd's covers its whole bbolt
/// file, which Vigil does not have); MoveLeader, which a single member honours only for itself (as a one-member
/// etcd: leadership "moves" to the leader, any other ID is a bad transferee); Downgrade answers `UNIMPLEMENTED`
/// with a message saying so.
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
        // etcd's Hash covers every bucket of its bbolt file (members, leases, meta…), which Vigil does not have, and
        // is meant for tests only; Vigil's is the key-value history's, HashKV's at the current revision.
        router.registerUnary(service: serviceName, method: "Hash") { bytes, _, responder in
            serveWrite(bytes, limit: Int.max, as: HashRequest.self, responder: responder) { _, reply in
                store.hashKV(HashKVRequest()) { result in
                    reply(result.map { HashResponse(header: $0.header, hash: $0.hash) })
                }
            }
        }
        router.registerUnary(service: serviceName, method: "MoveLeader") { bytes, _, responder in
            responder.respond(serve(bytes, as: MoveLeaderRequest.self) { (request) throws(EtcdError) in
                guard request.targetID == store.identity.memberID else { throw .badLeaderTransferee }
                return MoveLeaderResponse(header: store.identity.header(revision: store.currentRevision))
            })
        }
        let message = "vigil: Maintenance.Downgrade is not supported by this server"
        router.registerUnary(service: serviceName, method: "Downgrade") { _, _, responder in
            responder.respond(.failure(GRPCStatus(.unimplemented, message)))
        }
    }
}
