import EtcdProto
import Lease
import MVCC

extension EtcdStore {
    /// etcd's lease errors.
    private static func map(_ error: LeaseError) -> EtcdError {
        switch error {
        case .notFound: .leaseNotFound
        case .exists: .leaseExists
        case .ttlTooLarge: .tooLargeLeaseTTL
        }
    }

    /// Grants a lease; answers once the grant is durable. Refused like a Put when there is no space (etcd checks
    /// its quota for LeaseGrant too).
    public func leaseGrant(
        _ request: LeaseGrantRequest, reply: @escaping @Sendable (Result<LeaseGrantResponse, EtcdError>) -> Void
    ) {
        write(reply) { () throws(EtcdError) in
            try checkQuota()
            let granted: (id: Int64, ttl: Int64)
            do throws(LeaseError) {
                granted = try lessor.grant(id: request.id, ttl: request.ttl)
            } catch {
                throw Self.map(error)
            }
            leaseJournal?.stageLeaseGrant(id: granted.id, ttl: granted.ttl)
            stagedLeaseChange()
            let header = identity.header(revision: durableRevision)
            return (LeaseGrantResponse(header: header, id: granted.id, ttl: granted.ttl), [])
        }
    }

    /// Revokes a lease and deletes its keys in one revision; answers once that is durable.
    public func leaseRevoke(
        _ request: LeaseRevokeRequest, reply: @escaping @Sendable (Result<LeaseRevokeResponse, EtcdError>) -> Void
    ) {
        write(reply) { () throws(EtcdError) in
            let events = try revokeLocked(request.id)
            return (LeaseRevokeResponse(header: identity.header(revision: store.currentRevision)), events)
        }
    }

    /// Removes the lease and deletes its keys (sorted, so the DELETE events come in key order) in one write.
    /// Returns the write's events. Lock held.
    private func revokeLocked(_ id: Int64) throws(EtcdError) -> [Event] {
        let keys: [[UInt8]]
        do throws(LeaseError) { keys = try lessor.revoke(id) } catch { throw Self.map(error) }
        leaseJournal?.stageLeaseRevoke(id: id)
        stagedLeaseChange()
        guard !keys.isEmpty else { return [] }
        let txn = store.beginWrite()
        do {
            for key in keys { try txn.deleteRange(KeyRange(key: key)) }
            return try txn.commit().events
        } catch {
            txn.discard()
            throw EtcdError(error)
        }
    }

    /// Renews a lease; an unknown or expired one answers TTL 0 (etcd's keep-alive does not fail).
    public func leaseKeepAlive(_ request: LeaseKeepAliveRequest) -> LeaseKeepAliveResponse {
        withLockedStore { _ in
            LeaseKeepAliveResponse(
                header: identity.header(revision: durableRevision), id: request.id, ttl: lessor.renew(request.id))
        }
    }

    public func leaseTimeToLive(_ request: LeaseTimeToLiveRequest) -> LeaseTimeToLiveResponse {
        withLockedStore { _ in
            let header = identity.header(revision: durableRevision)
            guard let info = lessor.timeToLive(request.id) else {
                return LeaseTimeToLiveResponse(header: header, id: request.id, ttl: -1, grantedTTL: 0, keys: [])
            }
            return LeaseTimeToLiveResponse(
                header: header, id: request.id, ttl: info.remaining, grantedTTL: info.granted,
                keys: request.keys ? info.keys : [])
        }
    }

    public func leaseLeases() -> LeaseLeasesResponse {
        withLockedStore { _ in LeaseLeasesResponse(header: identity.header(revision: durableRevision), ids: lessor.ids) }
    }

    /// Revokes every lease whose time ran out, each in its own revision. Called by a timer (etcd checks every
    /// 500 ms); finding them costs O(log n) per expired lease.
    public func revokeExpiredLeases() {
        lock.lock()
        var immediate: [@Sendable () -> Void] = []
        for id in lessor.expired() {
            guard let events = try? revokeLocked(id) else { continue }
            if let run = committed(events: events, reply: {}) { immediate.append(run) }
        }
        lock.unlock()
        for run in immediate { run() }
    }
}
