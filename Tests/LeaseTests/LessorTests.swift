import Lease
import Testing

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    var now: Int64 = 1_000_000_000
    func advance(seconds: Int64) { now += seconds * 1_000_000_000 }
}

@Suite("lessor (etcd-semantics §8)")
struct LessorTests {
    @Test("grant picks unique positive IDs, honours client IDs and refuses duplicates")
    func grant() throws {
        let clock = ManualClock()
        let lessor = Lessor(clock: { clock.now })
        let picked = try lessor.grant(id: 0, ttl: 10)
        #expect(picked.id > 0 && picked.ttl == 10)
        #expect(try lessor.grant(id: 42, ttl: 10).id == 42)
        #expect(throws: LeaseError.exists) { try lessor.grant(id: 42, ttl: 5) }
        #expect(throws: LeaseError.ttlTooLarge) { try lessor.grant(id: 0, ttl: 9_000_000_001) }
        #expect(try lessor.grant(id: 0, ttl: 1).ttl == 2, "TTLs are raised to the minimum")
        #expect(lessor.count == 3)
    }

    @Test("leases expire in order, renewals push expiry back, revoked leases are skipped")
    func expiry() throws {
        let clock = ManualClock()
        let lessor = Lessor(clock: { clock.now })
        _ = try lessor.grant(id: 1, ttl: 5)
        _ = try lessor.grant(id: 2, ttl: 3)
        _ = try lessor.grant(id: 3, ttl: 4)
        _ = try lessor.revoke(3)
        clock.advance(seconds: 2)
        #expect(lessor.renew(2) == 3)  // now expires 5 s after the start
        clock.advance(seconds: 2)
        #expect(lessor.expired() == [], "nothing is due at 4 s")
        clock.advance(seconds: 1)
        #expect(lessor.expired() == [2, 1], "lease 2 (renewed to 7 s) and lease 1 (5 s) are both due at 7 s")
    }

    @Test("expired() returns each due lease once, oldest first")
    func expiredOnce() throws {
        let clock = ManualClock()
        let lessor = Lessor(clock: { clock.now })
        _ = try lessor.grant(id: 1, ttl: 5)
        _ = try lessor.grant(id: 2, ttl: 3)
        clock.advance(seconds: 10)
        #expect(lessor.expired() == [2, 1])
        #expect(lessor.expired() == [])
        #expect(lessor.renew(1) == 0, "an expired lease cannot be renewed")
    }

    @Test("keys attach and detach; revoke hands them back sorted")
    func keys() throws {
        let lessor = Lessor(clock: { 0 })
        _ = try lessor.grant(id: 7, ttl: 60)
        lessor.attach([3], to: 7)
        lessor.attach([1], to: 7)
        lessor.attach([2], to: 7)
        lessor.detach([2], from: 7)
        #expect(lessor.timeToLive(7)?.keys == [[1], [3]])
        #expect(try lessor.revoke(7) == [[1], [3]])
        #expect(throws: LeaseError.notFound) { try lessor.revoke(7) }
        #expect(lessor.timeToLive(7) == nil)
        #expect(lessor.renew(7) == 0)
    }

    @Test("time to live counts down in whole seconds")
    func timeToLive() throws {
        let clock = ManualClock()
        let lessor = Lessor(clock: { clock.now })
        _ = try lessor.grant(id: 9, ttl: 10)
        clock.now += 2_500_000_000
        #expect(lessor.timeToLive(9)?.remaining == 7)
        #expect(lessor.timeToLive(9)?.granted == 10)
    }
}
