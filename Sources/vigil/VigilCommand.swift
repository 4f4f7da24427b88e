import ArgumentParser
import EtcdService
import Foundation
import GRPCServer
import Logging
import NIOCore
import NIOPosix
import Persistence

/// `vigil`: an etcd-compatible server. Flags are named like etcd's, so operators can reuse what they know.
@main
struct VigilCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "An etcd-compatible watch server (etcd v3 gRPC API over h2c).",
        usage: """
            vigil [--data-dir <dir>] [--listen-client-urls <urls>] [<option> ...]   (serves)
            vigil snapshot restore <file> [--data-dir <dir>] [--skip-hash-check]
            """,
        version: "vigil version \(VigilVersion.vigil) (etcd API \(VigilVersion.etcdAPI))",
        subcommands: [SnapshotCommand.self]
    )

    @Option(name: .customLong("name"), help: "Human-readable name for this member.")
    var name = "default"

    @OptionGroup var dataDirectory: DataDirOption
    /// `--data-dir`.
    var dataDir: String { dataDirectory.dataDir }

    @Option(
        name: .customLong("listen-client-urls"),
        help: "List of URLs to listen on for client traffic (comma-separated; the flag may repeat).")
    var listenClientURLs: [String] = ["http://127.0.0.1:2379"]

    @Option(
        name: .customLong("advertise-client-urls"),
        help: "Client URLs to advertise to clients (MemberList); defaults to --listen-client-urls.")
    var advertiseClientURLs: [String] = []

    @Option(
        name: .customLong("initial-advertise-peer-urls"),
        help: "Peer URLs to report in MemberList (Vigil has no peers; clients only display them).")
    var initialAdvertisePeerURLs = "http://localhost:2380"

    @OptionGroup var cluster: SingleMemberFlags

    @OptionGroup var inert: InertEtcdFlags

    @Option(
        name: .customLong("max-request-bytes"),
        help: "Maximum client request size in bytes the server will accept (gRPC receive limit is this + 512 KiB).")
    var maxRequestBytes = 1_572_864

    @Option(name: .customLong("log-level"), help: "Log level: debug, info, warn, error, panic or fatal.")
    var logLevel = "info"

    @Option(
        name: .customLong("logger"),
        help: "etcd's logger choice ('zap' or 'capnslog'); accepted for etcd command lines, Vigil has one log format.")
    var etcdLogger = "zap"

    @Option(name: .customLong("log-outputs"), help: "Where logs go: 'default' or 'stderr', or 'stdout'.")
    var logOutputs = "default"

    @Option(
        name: .customLong("max-txn-ops"),
        help: "Maximum number of compares, or of operations in a branch, a transaction may hold.")
    var maxTxnOps = 128

    @Option(
        name: .customLong("cors"),
        help: "Comma-separated origins given CORS headers on the client port's HTTP answers ('*' or empty: all).")
    var cors = "*"

    @Option(
        name: .customLong("host-whitelist"),
        help: "Comma-separated host names the client port answers over plain HTTP ('*' or empty: all), against DNS rebinding.")
    var hostWhitelist = "*"

    @Option(
        name: .customLong("experimental-watch-progress-notify-interval"),
        help: "Duration of periodic watch progress notifications (etcd's default 10m; e.g. 5s, 500ms).")
    var progressNotifyInterval: DurationFlag = DurationFlag(milliseconds: 600_000)

    @Option(
        name: .customLong("grpc-keepalive-interval"),
        help: "Idle time after which the server pings a client connection to see that it is alive (0 disables).")
    var grpcKeepaliveInterval = DurationFlag(milliseconds: 2 * 3_600_000)

    @Option(
        name: .customLong("grpc-keepalive-timeout"),
        help: "How long a keepalive ping may go unanswered before the connection is closed.")
    var grpcKeepaliveTimeout = DurationFlag(milliseconds: 20_000)

    @Option(
        name: .customLong("auto-compaction-mode"),
        help: "Interpret --auto-compaction-retention as a duration ('periodic') or a revision count ('revision').")
    var autoCompactionMode = "periodic"

    @Option(
        name: .customLong("auto-compaction-retention"),
        help: "Auto compaction retention: a duration for 'periodic' (e.g. 1h, 30m; a bare number means hours), a revision count for 'revision'. 0 disables it.")
    var autoCompactionRetention = "0"

    @Option(
        name: .customLong("quota-backend-bytes"),
        help: "Raise the NOSPACE error ('etcdserver: mvcc: database space exceeded') above this many stored bytes (0: the 2 GiB default).")
    var quotaBackendBytes: Int = 0

    @Option(
        name: .customLong("experimental-backend"),
        help: .hidden)
    var backend = "sqlite"

    @Flag(
        name: .customLong("experimental-diagnostic-service"),
        help: .hidden)
    var diagnosticService = false

    func validate() throws {
        guard maxRequestBytes > 0 else {
            throw ValidationError("--max-request-bytes must be positive")
        }
        _ = try compactionMode()
        guard quotaBackendBytes >= 0 else { throw ValidationError("--quota-backend-bytes must not be negative") }
        guard maxTxnOps > 0 else { throw ValidationError("--max-txn-ops must be positive") }
        guard grpcKeepaliveTimeout.milliseconds > 0 else {
            throw ValidationError("--grpc-keepalive-timeout must be positive")
        }
        guard etcdLogger == "zap" || etcdLogger == "capnslog" else {
            throw ValidationError("--logger must be 'zap' or 'capnslog' (got \"\(etcdLogger)\")")
        }
        guard ["default", "stderr", "stdout"].contains(logOutputs) else {
            throw ValidationError("--log-outputs: only 'default', 'stderr' and 'stdout' are supported (got \"\(logOutputs)\")")
        }
        guard LogLevelName.parse(logLevel) != nil else {
            throw ValidationError("--log-level must be one of debug, info, warn, error, panic, fatal (got \"\(logLevel)\")")
        }
        _ = try listenAddresses()
        try cluster.validate(name: name)
    }

    /// The auto-compaction settings, or nil when it is off.
    func compactionMode() throws -> AutoCompactor.Mode? {
        switch autoCompactionMode {
        case "periodic":
            if let hours = Int64(autoCompactionRetention) {
                return hours == 0 ? nil : .periodic(retentionMilliseconds: hours * 3_600_000)
            }
            guard let duration = DurationFlag(argument: autoCompactionRetention), duration.milliseconds >= 0 else {
                throw ValidationError("--auto-compaction-retention: invalid duration \"\(autoCompactionRetention)\"")
            }
            return duration.milliseconds == 0 ? nil : .periodic(retentionMilliseconds: Int64(duration.milliseconds))
        case "revision":
            guard let count = Int64(autoCompactionRetention), count >= 0 else {
                throw ValidationError("--auto-compaction-retention: a revision count is expected in revision mode")
            }
            return count == 0 ? nil : .revision(retain: count)
        default:
            throw ValidationError("--auto-compaction-mode must be periodic or revision")
        }
    }

    private func listenAddresses() throws -> [GRPCServer.ListenAddress] {
        do {
            var addresses: [GRPCServer.ListenAddress] = []
            for list in listenClientURLs { addresses += try GRPCServer.ListenAddress.parseList(list) }
            return addresses
        } catch {
            throw ValidationError("--listen-client-urls: \(error)")
        }
    }

    /// Parses the command line with etcd's stand-alone boolean flags (`--pre-vote`) given a value first.
    static func main() async {
        await main(GoBool.normalise(Array(CommandLine.arguments.dropFirst()), booleans: InertEtcdFlags.booleans))
    }

    func run() async throws {
        let level = LogLevelName.parse(logLevel)!
        let toStandardOutput = logOutputs == "stdout"
        LoggingSystem.bootstrap { label in
            var handler =
                toStandardOutput ? StreamLogHandler.standardOutput(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "vigil")
        logger[metadataKey: "member"] = "\(name)"
        if !inert.given.isEmpty {
            logger.info(
                "etcd flags accepted for compatibility; they have no effect here",
                metadata: ["flags": "\(inert.given.joined(separator: ","))"])
        }

        let addresses = try listenAddresses()
        var configuration = GRPCServerConfiguration(logger: logger)
        configuration.maxReceiveMessageLength = maxRequestBytes + 512 * 1024
        configuration.keepaliveInterval = grpcKeepaliveInterval.milliseconds > 0 ? grpcKeepaliveInterval.timeAmount : nil
        configuration.keepaliveTimeout = grpcKeepaliveTimeout.timeAmount

        let store = try openStore(logger: logger)
        // etcd's default quota is 2 GiB.
        store.quotaBytes = quotaBackendBytes == 0 ? 2 << 30 : quotaBackendBytes
        store.maxTxnOps = maxTxnOps
        var router = GRPCRouter()
        HealthService.register(into: &router)
        KVService.register(into: &router, store: store, maxRequestBytes: maxRequestBytes)
        let clientURLs = (advertiseClientURLs.isEmpty ? listenClientURLs : advertiseClientURLs)
            .flatMap { $0.split(separator: ",").map(String.init) }
        let member = MemberInfo(
            name: name, peerURLs: initialAdvertisePeerURLs.split(separator: ",").map(String.init), clientURLs: clientURLs)
        LeaseService.register(into: &router, store: store)
        MaintenanceService.register(into: &router, store: store)
        ClusterService.register(into: &router, store: store, member: member)
        AuthService.register(into: &router, store: store)
        WatchService.register(
            into: &router, store: store,
            configuration: WatchService.Configuration(
                fragmentThreshold: maxRequestBytes + 512 * 1024,
                progressNotifyInterval: progressNotifyInterval.timeAmount))
        if diagnosticService { DiagnosticService.register(into: &router, store: store) }
        let accessControl = HTTPAccessControl(cors: Self.commaList(cors), hostWhitelist: Self.commaList(hostWhitelist))
        configuration.plainHTTP = EtcdHTTPEndpoints(
            store: store, router: router, logger: logger, accessControl: accessControl)

        let signals = SignalWaiter(signals: [SIGTERM, SIGINT])
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let server = GRPCServer(group: group, router: router, configuration: configuration)
        let bound: [SocketAddress]
        do {
            bound = try await server.start(listening: addresses)
        } catch {
            try? await group.shutdownGracefully()
            throw BindFailure(addresses: addresses, error: error)
        }
        logger.info(
            "serving client traffic insecurely (h2c)",
            metadata: [
                "addresses": "\(bound.map { "\($0)" }.joined(separator: ","))",
                "data-dir": "\(dataDir)", "version": "\(VigilVersion.vigil)",
            ])

        let metricsServer = try await startMetricsListener(group: group, store: store, logger: logger)
        if !cluster.listenPeerURLs.isEmpty {
            logger.info("not listening on --listen-peer-urls: vigil runs a single member and has no peers")
        }

        let allocatorHousekeeping = AllocatorHousekeeping.start(on: group)
        // etcd looks for expired leases every 500 ms.
        let leaseTimer = group.next().scheduleRepeatedTask(initialDelay: .milliseconds(500), delay: .milliseconds(500)) {
            _ in store.revokeExpiredLeases()
        }

        let compactor = try compactionMode().map {
            AutoCompactor(store: store, mode: $0, eventLoop: group.next(), logger: logger)
        }

        let signal = await signals.next()
        compactor?.stop()
        leaseTimer.cancel()
        for task in allocatorHousekeeping { task.cancel() }
        logger.info("received signal; shutting down gracefully", metadata: ["signal": "\(signal)"])
        await metricsServer?.shutDown()
        await server.shutDownGracefully()
        store.close()
        try await group.shutdownGracefully()
        logger.info("stopped")
    }
}

extension VigilCommand {
    /// Serves `/metrics` and `/health` on `--listen-metrics-urls`, if any.
    func startMetricsListener(group: any EventLoopGroup, store: EtcdStore, logger: Logger) async throws
        -> PlainHTTPServer?
    {
        let addresses = try cluster.metricsAddresses()
        guard !addresses.isEmpty else { return nil }
        let server = PlainHTTPServer(
            group: group, responder: EtcdHTTPEndpoints(store: store, servesVersion: false), logger: logger)
        do {
            let bound = try await server.start(listening: addresses)
            logger.info("serving /metrics and /health", metadata: ["addresses": "\(bound.map { "\($0)" }.joined(separator: ","))"])
        } catch {
            throw BindFailure(addresses: addresses, error: error)
        }
        return server
    }

    /// A comma-separated flag value as its items, blanks dropped (`a, b,` → `["a", "b"]`).
    static func commaList(_ value: String) -> [String] {
        value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Opens the data directory (locked against a second vigil) and the store on it.
    func openStore(logger: Logger) throws -> EtcdStore {
        switch backend {
        case "memory":
            logger.warning("using the in-memory backend: nothing is stored on disk")
            return try EtcdStore(identity: ClusterIdentity.derived(name: name, dataDirectory: dataDir))
        case "sqlite":
            let directory = try DataDirectory(path: dataDir)
            let store: EtcdStore
            do {
                let sqlite = try SQLiteBackend(directory: directory.path)
                store = try EtcdStore(
                    identity: ClusterIdentity(clusterID: sqlite.clusterID, memberID: sqlite.memberID), backend: sqlite,
                    leaseJournal: sqlite, storedLeases: sqlite.storedLeases)
            } catch {
                // Which file, and SQLite's own words ("file is not a database", "database disk image is malformed").
                let reason = "\(error)"
                if reason.contains(directory.path) { throw error }
                throw DataDirectory.Failure(description: "cannot use \(directory.path)/vigil.db: \(reason)")
            }
            // The lock lives as long as the process.
            DataDirectoryHolder.directory = directory
            logger.info("opened data directory", metadata: ["data-dir": "\(dataDir)", "revision": "\(store.currentRevision)"])
            return store
        default:
            throw ValidationError("--experimental-backend must be sqlite or memory")
        }
    }
}

/// `--data-dir`, shared with `vigil snapshot restore` (one option the parser gives both commands).
struct DataDirOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Path to the data directory.")
    var dataDir = "default.vigil"
}

/// Keeps the data directory (and its lock) alive until the process exits.
enum DataDirectoryHolder {
    nonisolated(unsafe) static var directory: DataDirectory?
}

/// A failure to listen, reported in one line like etcd's `listen tcp 127.0.0.1:2379: bind: address already in use`.
struct BindFailure: Error, CustomStringConvertible {
    let addresses: [GRPCServer.ListenAddress]
    let error: any Error

    var description: String {
        let reason: String
        if let io = error as? IOError {
            reason = String(cString: strerror(io.errnoCode)).lowercased()
        } else {
            reason = "\(error)"
        }
        return "listen tcp \(addresses.map(\.description).joined(separator: ",")): bind: \(reason)"
    }
}
