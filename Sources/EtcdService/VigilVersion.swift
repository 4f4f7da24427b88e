/// Versions Vigil reports: its own release, and the etcd API version it implements (what `etcdctl endpoint status`
/// shows, and what clients compare with `client-api-version`).
public enum VigilVersion {
    /// Vigil's own version.
    public static let vigil = "0.1.0"
    /// The etcd release whose v3 gRPC API Vigil serves.
    public static let etcdAPI = "3.5.13"
    /// The cluster version such a release reports (`/version`'s `etcdcluster`): its major.minor.0.
    public static let etcdCluster = "3.5.0"
}
