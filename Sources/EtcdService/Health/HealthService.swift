import EtcdProto
public import GRPCServer

/// `grpc.health.v1.Health`: the standard gRPC health check, `Check` and `Watch` (``HealthWatchHandler``). Vigil is
/// one process with an embedded store, so it is `SERVING` as a whole (service `""`) as long as it answers at all.
public enum HealthService {
    /// The gRPC service name.
    public static let serviceName = "grpc.health.v1.Health"

    /// Services this server reports on: `""` (the server) and every etcd service registered beside it.
    public static func register(into router: inout GRPCRouter, services: Set<String> = [""]) {
        router.registerUnary(service: serviceName, method: "Check") { bytes, _, responder in
            let request: HealthCheckRequest
            do {
                request = try HealthCheckRequest(protobufBytes: bytes)
            } catch {
                responder.respond(.failure(GRPCStatus(.internal, "grpc: error unmarshalling request: \(error)")))
                return
            }
            // grpc-go's health server answers NOT_FOUND "unknown service" for a service it does not track.
            guard services.contains(request.service) else {
                responder.respond(.failure(GRPCStatus(.notFound, "unknown service")))
                return
            }
            responder.respond(.success(HealthCheckResponse(status: .serving).protobufBytes()))
        }
        router.registerStreaming(service: serviceName, method: "Watch") { stream in
            HealthWatchHandler(stream: stream, services: services)
        }
    }
}
