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

    public func leaseGrant(_ request: LeaseGrantRequest) throws(EtcdError) -> LeaseGrantResponse {
        try withLockedStore { store throws(EtcdError) in
            do throws(LeaseError) {
                let (id, ttl) = try lessor.grant(id: request.id, ttl: request.ttl)
                return LeaseGrantResponse(header: identity.header(revision: store.currentRevision), id: id, ttl: ttl)
            } catch {
                throw Self.map(error)
            }
        }
    }

    public func leaseRevoke(_ request: LeaseRevokeRequest) throws(EtcdError) -> LeaseRevokeResponse {
        try withLockedStore { store throws(EtcdError) in
            try revokeLocked(request.id, store: store)
            return LeaseRevokeResponse(header: identity.header(revision: store.currentRevision))
        }
    }

    /// Revokes a lease and deletes its keys in one revision (so watchers see all the DELETEs together, in key
    /// order). Lock held.
    private func revokeLocked(_ id: Int64, store: KVStore) throws(EtcdError) {
        let keys: [[UInt8]]
        do throws(LeaseError) { keys = try lessor.revoke(id) } catch { throw Self.map(error) }
        guard !keys.isEmpty else { return }
        let txn = store.beginWrite()
        do {
            for key in keys { try txn.deleteRange(KeyRange(key: key)) }
            let outcome = try txn.commit()
            if !outcome.events.isEmpty { watchHub.publish(revision: outcome.revision, events: outcome.events) }
        } catch {
            txn.discard()
            throw EtcdError(error)
        }
    }

    /// Renews a lease; an unknown or expired one answers TTL 0 (etcd's keep-alive does not fail).
    public func leaseKeepAlive(_ request: LeaseKeepAliveRequest) -> LeaseKeepAliveResponse {
        withLockedStore { store in
            let revision = store.currentRevision
            return LeaseKeepAliveResponse(
                header: identity.header(revision: revision), id: request.id, ttl: lessor.renew(request.id))
        }
    }

    public func leaseTimeToLive(_ request: LeaseTimeToLiveRequest) -> LeaseTimeToLiveResponse {
        withLockedStore { store in
            let header = identity.header(revision: store.currentRevision)
            guard let info = lessor.timeToLive(request.id) else {
                return LeaseTimeToLiveResponse(header: header, id: request.id, ttl: -1, grantedTTL: 0, keys: [])
            }
            return LeaseTimeToLiveResponse(
                header: header, id: request.id, ttl: info.remaining, grantedTTL: info.granted,
                keys: request.keys ? info.keys : [])
        }
    }

    public func leaseLeases() -> LeaseLeasesResponse {
        withLockedStore { store in
            LeaseLeasesResponse(header: identity.header(revision: store.currentRevision), ids: lessor.ids)
        }
    }

    /// Revokes every lease whose time ran out, each in its own revision. Called by a timer (etcd checks every
    /// 500 ms); finding them costs O(log n) per expired lease.
    public func revokeExpiredLeases() {
        withLockedStore { store in
            for id in lessor.expired() {
                try? revokeLocked(id, store: store)
            }
        }
    }
}
