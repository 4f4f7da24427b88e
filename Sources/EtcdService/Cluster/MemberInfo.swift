/// What this member says about itself in `MemberList` and `Status`.
public struct MemberInfo: Sendable, Equatable {
    /// `--name`.
    public var name: String
    /// `--initial-advertise-peer-urls` (Vigil has no peers; clients only display these).
    public var peerURLs: [String]
    /// `--advertise-client-urls`: where clients (and clientv3's endpoint sync) should connect.
    public var clientURLs: [String]

    public init(name: String, peerURLs: [String], clientURLs: [String]) {
        self.name = name
        self.peerURLs = peerURLs
        self.clientURLs = clientURLs
    }
}
