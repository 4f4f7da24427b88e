import ArgumentParser

/// etcd flags that tune what Vigil does not have — raft, its snapshot and WAL files, bbolt's commit batching,
/// profiling endpoints, the v2 API, authentication, the client ping rate limit — so that an etcd command line (a systemd
/// unit, a container's arguments, kubeadm's manifest) starts Vigil unchanged. Each is parsed as etcd 3.4 parses it
/// and refused where etcd would refuse to start; none changes what Vigil does, and the ones given are named once in
/// the start-up log, so an operator is never led to believe a setting took effect.
struct InertEtcdFlags: ParsableArguments {
    @Option(name: .customLong("max-snapshots"), help: "Raft snapshot files to keep; no effect (Vigil has no raft).")
    var maxSnapshots: UInt?

    @Option(name: .customLong("max-wals"), help: "WAL files to keep; no effect (Vigil has no raft WAL).")
    var maxWALs: UInt?

    @Option(name: .customLong("pre-vote"), help: "Raft pre-vote (true/false); no effect on a single member.")
    var preVote: GoBool?

    @Option(
        name: .customLong("strict-reconfig-check"),
        help: "Reject reconfigurations that would lose quorum (true/false); no effect on a single member.")
    var strictReconfigCheck: GoBool?

    @Option(
        name: .customLong("experimental-initial-corrupt-check"),
        help: "Compare this member's hash with its peers' before serving (true/false); no effect (no peers).")
    var initialCorruptCheck: GoBool?

    @Option(
        name: .customLong("enable-v2"),
        help: "Serve the v2 API (true/false); no effect: Vigil serves the v3 API only, as etcd 3.4 does by default.")
    var enableV2: GoBool?

    @Option(name: .customLong("enable-pprof"), help: "Serve /debug/pprof (true/false); no effect: not served.")
    var enablePprof: GoBool?

    @Option(
        name: .customLong("metrics"),
        help: "'basic' or 'extensive' (etcd 3.4 takes any word); no effect: Vigil exports one set of metrics.")
    var metrics: String?

    @Option(
        name: .customLong("auth-token"),
        help: "Authentication token type ('simple' or 'jwt,…'); no effect: authentication is not served.")
    var authToken: String?

    @Option(
        name: .customLong("backend-batch-interval"),
        help: "bbolt's longest commit interval; no effect: every write is committed and synced with its group.")
    var backendBatchInterval: DurationFlag?

    @Option(
        name: .customLong("backend-batch-limit"),
        help: "bbolt's most operations per commit; no effect: every write is committed and synced with its group.")
    var backendBatchLimit: UInt?

    @Option(
        name: .customLong("grpc-keepalive-min-time"),
        help: "Shortest client ping interval tolerated; no effect: client pings are answered whatever their rate.")
    var grpcKeepaliveMinTime: DurationFlag?

    /// The flags given on the command line, by name, for the start-up log.
    var given: [String] {
        let flags: [(String, Bool)] = [
            ("--max-snapshots", maxSnapshots != nil), ("--max-wals", maxWALs != nil), ("--pre-vote", preVote != nil),
            ("--strict-reconfig-check", strictReconfigCheck != nil),
            ("--experimental-initial-corrupt-check", initialCorruptCheck != nil), ("--enable-v2", enableV2 != nil),
            ("--enable-pprof", enablePprof != nil), ("--metrics", metrics != nil), ("--auth-token", authToken != nil),
            ("--backend-batch-interval", backendBatchInterval != nil), ("--backend-batch-limit", backendBatchLimit != nil),
            ("--grpc-keepalive-min-time", grpcKeepaliveMinTime != nil),
        ]
        return flags.filter(\.1).map(\.0)
    }

    func validate() throws {
        if let authToken {
            let kind = authToken.split(separator: ",", maxSplits: 1).first.map(String.init) ?? ""
            // etcd refuses to start on any other type ("auth: invalid auth options").
            guard kind == "simple" || kind == "jwt" else {
                throw ValidationError("--auth-token: invalid auth options: unknown token type \"\(kind)\" ('simple' or 'jwt,…')")
            }
        }
    }

    /// The flags that Go's flag package lets stand alone for `true` (`--pre-vote`), as etcd's command line may.
    static let booleans: Set<String> = [
        "--pre-vote", "--strict-reconfig-check", "--experimental-initial-corrupt-check", "--enable-v2", "--enable-pprof",
    ]
}
