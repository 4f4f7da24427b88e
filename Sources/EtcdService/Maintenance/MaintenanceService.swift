import EtcdProto
public import GRPCServer

/// `etcdserverpb.Maintenance`: Status, Alarm and Defragment (which rebuilds the data directory's database); the methods a single embedded member cannot honour
/// answer `UNIMPLEMENTED` with a message saying so.
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
        for method in ["Hash", "HashKV", "Snapshot", "MoveLeader", "Downgrade"] {
            let message = "vigil: Maintenance.\(method) is not supported by this server"
            if method == "Snapshot" {
                router.registerStreaming(service: serviceName, method: method) { stream in
                    RefusingHandler(stream: stream, status: GRPCStatus(.unimplemented, message))
                }
            } else {
                router.registerUnary(service: serviceName, method: method) { _, _, responder in
                    responder.respond(.failure(GRPCStatus(.unimplemented, message)))
                }
            }
        }
    }
}

/// A streaming method that ends every call at once with a fixed status.
final class RefusingHandler: GRPCStreamHandler {
    private var stream: GRPCServerStream?
    private let status: GRPCStatus

    init(stream: GRPCServerStream, status: GRPCStatus) {
        self.stream = stream
        self.status = status
    }

    func receive(_ message: [UInt8]) {
        stream?.finish(status)
        stream = nil
    }

    func receiveEnd() {
        stream?.finish(status)
        stream = nil
    }

    func cancelled() {
        stream = nil
    }
}
