/// One lease: its TTL, when it expires, and the keys attached to it.
public struct Lease: Sendable, Equatable {
    /// The lease ID, positive.
    public let id: Int64
    /// The TTL granted, in seconds (the request's TTL, raised to the minimum).
    public let grantedTTL: Int64
    /// When the lease expires, on the lessor's monotonic clock (nanoseconds).
    public internal(set) var expiry: Int64
    /// Keys attached to the lease (kept sorted when read out).
    public internal(set) var keys: Set<[UInt8]>
}
