import EtcdProto
import MVCC

extension Mvccpb.KeyValue {
    /// The wire form of a stored key version; `keysOnly` drops the value.
    init(_ kv: KeyValue, keysOnly: Bool = false) {
        self.init(
            key: kv.key, createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version,
            value: keysOnly ? [] : kv.value, lease: kv.lease)
    }
}

extension ClusterIdentity {
    /// A full response header at `revision`.
    func header(revision: Int64) -> ResponseHeader {
        ResponseHeader(clusterID: clusterID, memberID: memberID, revision: revision, raftTerm: raftTerm)
    }
}
