import EtcdProto
import GRPCServer

/// One `grpc.health.v1.Health/Watch` call (gRPC's client-side health checking opens one per connection): the
/// service's status at once — `SERVING`, or `SERVICE_UNKNOWN` for a service the server does not track — and then
/// the stream stays open for changes, as grpc-go's health server keeps it. Vigil's status does not change while it
/// runs; the call ends when the client cancels it or the server shuts down. Event loop only.
final class HealthWatchHandler: GRPCStreamHandler {
    /// The call; nil once it ended.
    private var stream: (any GRPCResponseWriter)?
    /// The services reported as `SERVING`.
    private let services: Set<String>
    /// Whether the request arrived (a server-streaming call takes one; later ones are ignored, as grpc-go does).
    private var requested = false

    init(stream: any GRPCResponseWriter, services: Set<String>) {
        self.stream = stream
        self.services = services
    }

    func receive(_ message: [UInt8]) {
        guard let stream, !requested else { return }
        requested = true
        let request: HealthCheckRequest
        switch decodeRequest(message, as: HealthCheckRequest.self) {
        case .success(let decoded):
            request = decoded
        case .failure(let status):
            stream.abort(with: status)
            self.stream = nil
            return
        }
        let status: HealthCheckResponse.ServingStatus = services.contains(request.service) ? .serving : .serviceUnknown
        stream.send(HealthCheckResponse(status: status).protobufBytes())
    }

    func receiveEnd() {
        // The client half-closed without a request: grpc-go's handler reads EOF and ends the call with it.
        guard let stream, !requested else { return }
        stream.finish(GRPCStatus(.unknown, "EOF"))
        self.stream = nil
    }

    func cancelled() {
        stream = nil
    }
}
