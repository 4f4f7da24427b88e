/// `etcdserverpb.ResponseHeader`: which cluster and member answered, and the store revision the request saw.
public struct ResponseHeader: Sendable, Equatable {
    public var clusterID: UInt64
    public var memberID: UInt64
    /// The store revision the request saw (see etcd-semantics §2.2 for which one each call reports).
    public var revision: Int64
    public var raftTerm: UInt64

    public init(clusterID: UInt64 = 0, memberID: UInt64 = 0, revision: Int64 = 0, raftTerm: UInt64 = 0) {
        self.clusterID = clusterID
        self.memberID = memberID
        self.revision = revision
        self.raftTerm = raftTerm
    }
}
