/// The validated HEADERS of a gRPC request.
public struct GRPCRequestHead: Sendable, Equatable {
    /// `:path`, e.g. `/etcdserverpb.KV/Range`.
    public var path: String
    /// The service part of the path, e.g. `etcdserverpb.KV`.
    public var service: String
    /// The method part of the path, e.g. `Range`.
    public var method: String
    /// `grpc-timeout`, if the client set a deadline.
    public var timeout: GRPCTimeout?
    /// `grpc-encoding`, if any.
    public var encoding: String?
    /// Every non-pseudo header the client sent (custom metadata such as `hasleader`, plus `user-agent`, `te`, …).
    public var metadata: [HeaderField]
}
