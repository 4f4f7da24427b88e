/// Where lease grants and revocations are recorded durably (the SQLite backend), so leases survive a restart.
/// Calls stage a change; it is durable with the next flush of the store's backend.
public protocol LeaseJournal: AnyObject, Sendable {
    func stageLeaseGrant(id: Int64, ttl: Int64)
    func stageLeaseRevoke(id: Int64)
}
