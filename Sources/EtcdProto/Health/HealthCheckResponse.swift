/// `grpc.health.v1.HealthCheckResponse`: the serving status of one service.
public struct HealthCheckResponse: ProtoMessage {
    /// `grpc.health.v1.HealthCheckResponse.ServingStatus`.
    public enum ServingStatus: Int32, Sendable, Equatable, CaseIterable {
        case unknown = 0
        case serving = 1
        case notServing = 2
        /// Only sent by `Health/Watch`, for a service the server does not know.
        case serviceUnknown = 3
    }

    public var status: ServingStatus

    public init(status: ServingStatus) {
        self.status = status
    }
}
