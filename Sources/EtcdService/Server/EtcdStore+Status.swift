import EtcdProto
import MVCC

extension EtcdStore {
    /// `Maintenance.Status`: the etcd version Vigil implements, this member as leader, the revision as raft index,
    /// the size of the data directory's database (an estimate of the stored bytes for the in-memory backend) and
    /// the quota.
    public func status() -> StatusResponse {
        withLockedStore { store in
            let revision = durableRevision
            let estimate = store.estimatedSize
            let size = store.storageSize ?? StorageSize(total: estimate, inUse: estimate)
            return StatusResponse(
                header: identity.header(revision: revision), version: VigilVersion.etcdAPI, dbSize: Int64(size.total),
                leader: identity.memberID, raftIndex: UInt64(revision), raftTerm: identity.raftTerm,
                raftAppliedIndex: UInt64(revision), dbSizeInUse: Int64(size.inUse), dbSizeQuota: Int64(quotaBytes))
        }
    }
}
