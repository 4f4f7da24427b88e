/// `etcdserverpb.AuthStatusResponse`.
public struct AuthStatusResponse: ProtoEncodable, Equatable {
    public var header: ResponseHeader
    public var enabled: Bool
    public var authRevision: UInt64
    public init(header: ResponseHeader, enabled: Bool, authRevision: UInt64) {
        self.header = header
        self.enabled = enabled
        self.authRevision = authRevision
    }
}
