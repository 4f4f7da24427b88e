import EtcdProto
import MVCC

extension EtcdStore {
    /// `Maintenance.Status`: the etcd version Vigil implements, this member as leader, the revision as raft index,
    /// and an estimate of the stored bytes.
    public func status() -> StatusResponse {
        withLockedStore { store in
            let revision = durableRevision
            let size = Int64(store.estimatedSize)
            return StatusResponse(
                header: identity.header(revision: revision), version: VigilVersion.etcdAPI, dbSize: size,
                leader: identity.memberID, raftIndex: UInt64(revision), raftTerm: identity.raftTerm,
                raftAppliedIndex: UInt64(revision), dbSizeInUse: size)
        }
    }
}
