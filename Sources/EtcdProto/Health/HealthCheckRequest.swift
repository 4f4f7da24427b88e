/// `grpc.health.v1.HealthCheckRequest`: which service a health check asks about.
public struct HealthCheckRequest: ProtoMessage {
    /// The service name; `""` asks about the server as a whole.
    public var service: String

    public init(service: String = "") {
        self.service = service
    }
}
