/// The identity Vigil reports in every `ResponseHeader`: stable, non-zero cluster and member IDs, and a constant
/// raft term (a single member never holds an election after its first).
public struct ClusterIdentity: Sendable, Hashable {
    public var clusterID: UInt64
    public var memberID: UInt64
    /// etcd's single member reports term 2 after its first election.
    public var raftTerm: UInt64 = 2

    public init(clusterID: UInt64, memberID: UInt64) {
        precondition(clusterID != 0 && memberID != 0, "cluster and member IDs must be non-zero")
        self.clusterID = clusterID
        self.memberID = memberID
    }

    /// IDs derived from the member name and its data directory, so that they stay the same across restarts of the
    /// same member (until the durable backend stores them with the data).
    public static func derived(name: String, dataDirectory: String) -> ClusterIdentity {
        ClusterIdentity(
            clusterID: nonZero(fnv1a("vigil-cluster\u{0}\(dataDirectory)\u{0}\(name)")),
            memberID: nonZero(fnv1a("vigil-member\u{0}\(dataDirectory)\u{0}\(name)")))
    }

    private static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    private static func nonZero(_ value: UInt64) -> UInt64 { value == 0 ? 1 : value }
}
