import ArgumentParser
import GRPCServer

/// etcd's clustering and raft flags, so that a single-member etcd's command line starts Vigil unchanged: each is
/// checked against what one member can be and otherwise has no effect (Vigil has no peers and no raft log) —
/// except `--listen-metrics-urls`, which Vigil serves as etcd does.
struct SingleMemberFlags: ParsableArguments {
    @Option(
        name: .customLong("initial-cluster"),
        help: "Initial cluster configuration (name=peer-URL,…). Vigil runs one member: every entry must name --name.")
    var initialCluster: String?

    @Option(name: .customLong("initial-cluster-state"), help: "Initial cluster state ('new' or 'existing'); no effect.")
    var initialClusterState = "new"

    @Option(name: .customLong("initial-cluster-token"), help: "Initial cluster token; no effect.")
    var initialClusterToken = "etcd-cluster"

    @Option(
        name: .customLong("listen-peer-urls"),
        help: "Peer URLs to listen on; Vigil has no peers and opens no peer port.")
    var listenPeerURLs: [String] = []

    @Option(
        name: .customLong("listen-metrics-urls"),
        help: "URLs to also serve /metrics and /health on (plain HTTP), apart from client traffic.")
    var listenMetricsURLs: [String] = []

    @Option(name: .customLong("snapshot-count"), help: "Raft snapshot trigger; no effect (Vigil has no raft log).")
    var snapshotCount: UInt64 = 100_000

    @Option(name: .customLong("heartbeat-interval"), help: "Raft heartbeat interval in ms; no effect.")
    var heartbeatInterval: UInt64 = 100

    @Option(name: .customLong("election-timeout"), help: "Raft election timeout in ms; no effect.")
    var electionTimeout: UInt64 = 1000

    /// Checks the flags against one member called `name`.
    func validate(name: String) throws {
        guard initialClusterState == "new" || initialClusterState == "existing" else {
            throw ValidationError("--initial-cluster-state must be 'new' or 'existing' (got \"\(initialClusterState)\")")
        }
        if let initialCluster {
            let names = try Self.memberNames(initialCluster)
            guard names.contains(name) else {
                throw ValidationError(
                    "couldn't find local name \"\(name)\" in the initial cluster configuration (--initial-cluster)")
            }
            let others = names.filter { $0 != name }
            guard others.isEmpty else {
                throw ValidationError(
                    "vigil runs a single member: --initial-cluster also names \(others.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
        }
        for (flag, lists) in [("--listen-peer-urls", listenPeerURLs), ("--listen-metrics-urls", listenMetricsURLs)] {
            for list in lists {
                do { _ = try GRPCServer.ListenAddress.parseList(list) } catch { throw ValidationError("\(flag): \(error)") }
            }
        }
    }

    /// The member names of `name=URL,name=URL,…`, in order, each once.
    static func memberNames(_ cluster: String) throws -> [String] {
        var names: [String] = []
        for entry in cluster.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ValidationError("--initial-cluster: \"\(entry)\" is not name=URL")
            }
            if !names.contains(String(parts[0])) { names.append(String(parts[0])) }
        }
        return names
    }

    /// Where to serve `/metrics` and `/health` besides the client URLs.
    func metricsAddresses() throws -> [GRPCServer.ListenAddress] {
        try listenMetricsURLs.flatMap { try GRPCServer.ListenAddress.parseList($0) }
    }
}
