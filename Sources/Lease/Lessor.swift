/// Every lease, its expiry order and its attached keys (etcd's `lessor`).
///
/// Pure bookkeeping: it never deletes keys itself. Revoking (by request or on expiry) hands back the keys, and the
/// owner deletes them in one write. Not thread-safe: the store's lock guards it. Time comes from an injected
/// monotonic clock, so tests control it.
public final class Lessor {
    /// etcd's largest TTL.
    public static let maxTTL: Int64 = 9_000_000_000

    /// Live leases by ID.
    private var leases: [Int64: Lease] = [:]
    /// Leases ordered by expiry.
    private var queue = ExpiryQueue()
    /// TTLs below this are raised to it (etcd: 1.5 × election timeout, rounded up: 2 s by default).
    public let minTTL: Int64
    /// Monotonic nanoseconds.
    private let clock: () -> Int64

    public init(minTTL: Int64 = 2, clock: @escaping () -> Int64) {
        self.minTTL = minTTL
        self.clock = clock
    }

    /// The number of live leases.
    public var count: Int { leases.count }

    public func contains(_ id: Int64) -> Bool { leases[id] != nil }

    /// Grants a lease. `id` 0 picks a unique positive ID.
    ///
    /// - Returns: the lease's ID and granted TTL.
    public func grant(id: Int64, ttl: Int64) throws(LeaseError) -> (id: Int64, ttl: Int64) {
        if ttl > Self.maxTTL { throw .ttlTooLarge }
        var chosen = id
        if chosen == 0 {
            var generator = SystemRandomNumberGenerator()
            repeat { chosen = Int64.random(in: 1...Int64.max, using: &generator) } while leases[chosen] != nil
        } else if leases[chosen] != nil {
            throw .exists
        }
        let granted = max(ttl, minTTL)
        let expiry = clock() + granted * 1_000_000_000
        leases[chosen] = Lease(id: chosen, grantedTTL: granted, expiry: expiry, keys: [])
        queue.push(expiry: expiry, id: chosen)
        return (chosen, granted)
    }

    /// Removes a lease and returns its keys in ascending byte order, for the owner to delete in one write.
    public func revoke(_ id: Int64) throws(LeaseError) -> [[UInt8]] {
        guard let lease = leases.removeValue(forKey: id) else { throw .notFound }
        return lease.keys.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Resets a lease's expiry to now + its TTL. Returns the TTL, or 0 when no live lease has the ID (etcd answers
    /// a keep-alive of an unknown or expired lease with TTL 0, not an error).
    public func renew(_ id: Int64) -> Int64 {
        let now = clock()
        guard var lease = leases[id], lease.expiry > now else { return 0 }
        lease.expiry = now + lease.grantedTTL * 1_000_000_000
        leases[id] = lease
        queue.push(expiry: lease.expiry, id: id)
        return lease.grantedTTL
    }

    /// A lease's remaining whole seconds (truncated), granted TTL and keys; nil when unknown.
    public func timeToLive(_ id: Int64) -> (remaining: Int64, granted: Int64, keys: [[UInt8]])? {
        guard let lease = leases[id] else { return nil }
        let remaining = max(0, (lease.expiry - clock()) / 1_000_000_000)
        return (remaining, lease.grantedTTL, lease.keys.sorted { $0.lexicographicallyPrecedes($1) })
    }

    /// Every live lease ID, ascending.
    public var ids: [Int64] { leases.keys.sorted() }

    /// Records that `key` is now attached to `id` (a Put with that lease).
    public func attach(_ key: [UInt8], to id: Int64) {
        leases[id]?.keys.insert(key)
    }

    /// Records that `key` left `id` (deleted, or put with another lease).
    public func detach(_ key: [UInt8], from id: Int64) {
        leases[id]?.keys.remove(key)
    }

    /// The IDs of leases whose expiry has passed, oldest first; they stay until revoked. O(log n) per lease.
    public func expired() -> [Int64] {
        let now = clock()
        var out: [Int64] = []
        while let top = queue.first, top.expiry <= now {
            _ = queue.popFirst()
            // Skip entries left behind by renewals and revocations.
            if let lease = leases[top.id], lease.expiry == top.expiry { out.append(top.id) }
        }
        return out
    }
}
