/// The etcd metrics Vigil can report truthfully, by etcd's names, in Prometheus' text exposition format (0.0.4):
/// a single member's fixed raft facts, sizes, revisions, watch counts and `/health` counts. Request counters and
/// latency histograms etcd also exports are left out rather than reported as zero.
struct EtcdMetrics {
    /// One metric: its name, help, type, and samples (label set → value).
    struct Family {
        var name: String
        var help: String
        var type: String
        var samples: [(labels: String, value: String)]
    }

    let families: [Family]

    init(store: EtcdStore, healthSuccesses: Int, healthFailures: Int) {
        let status = store.status()
        let compactRevision = store.withLockedStore { $0.compactRevision }  // -1 before any compaction, as etcd
        let hub = store.watchHub!
        func gauge(_ name: String, _ help: String, _ value: some BinaryInteger, labels: String = "") -> Family {
            Family(name: name, help: help, type: "gauge", samples: [(labels, Self.number(Double(value)))])
        }
        func counter(_ name: String, _ help: String, _ value: some BinaryInteger) -> Family {
            Family(name: name, help: help, type: "counter", samples: [("", Self.number(Double(value)))])
        }
        /// A family of the process's own, when `/proc` gave its value.
        func process(_ name: String, _ help: String, _ type: String, _ value: Double?) -> Family? {
            value.map { Family(name: name, help: help, type: type, samples: [("", Self.number($0))]) }
        }
        let own = ProcessMetrics.current()
        let cluster = VigilVersion.etcdCluster.split(separator: ".").prefix(2).joined(separator: ".")
        families = [
            gauge("etcd_cluster_version", "Which version is running. 1 for 'cluster_version' label with current cluster version",
                  1, labels: #"cluster_version="\#(cluster)""#),
            gauge("etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.", compactRevision),
            gauge("etcd_debugging_mvcc_current_revision", "The current revision of store.", status.header.revision),
            gauge("etcd_debugging_mvcc_watch_stream_total", "Total number of watch streams.", hub.streamCount),
            gauge("etcd_debugging_mvcc_watcher_total", "Total number of watchers.", hub.watcherCount),
            gauge("etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.",
                  status.dbSize),
            gauge("etcd_mvcc_db_total_size_in_use_in_bytes", "Total size of the underlying database logically in use in bytes.",
                  status.dbSizeInUse),
            gauge("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.", 1),
            counter("etcd_server_health_failures", "The total number of failed health checks", healthFailures),
            counter("etcd_server_health_success", "The total number of successful health checks", healthSuccesses),
            gauge("etcd_server_id", "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
                  1, labels: #"server_id="\#(String(store.identity.memberID, radix: 16))""#),
            gauge("etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.", 1),
            gauge("etcd_server_is_learner", "Whether or not this member is a learner. 1 if is, 0 otherwise.", 0),
            gauge("etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.", status.dbSizeQuota),
            gauge("etcd_server_version", "Which version is running. 1 for 'server_version' label with current version.",
                  1, labels: #"server_version="\#(VigilVersion.etcdAPI)""#),
        ] + [
            process("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter",
                    own.cpuSeconds),
            process("process_max_fds", "Maximum number of open file descriptors.", "gauge", own.maxFDs.map(Double.init)),
            process("process_open_fds", "Number of open file descriptors.", "gauge", own.openFDs.map(Double.init)),
            process("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge",
                    own.residentBytes.map(Double.init)),
            process("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge",
                    own.startTimeSeconds),
            process("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge",
                    own.virtualBytes.map(Double.init)),
            process("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.",
                    "gauge", own.maxVirtualBytes),
        ].compactMap { $0 }
    }

    /// A sample value as Prometheus' Go client writes it — Go's `strconv.FormatFloat(v, 'g', -1, 64)`: the
    /// shortest digits that read back as `v`, in exponent form when the exponent is below -4 or at least 6
    /// (2147483648 → `2.147483648e+09`, 0.04 → `0.04`, 10^6 → `1e+06`).
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value < 0 ? "-Inf" : "+Inf") }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        // Swift's description also holds the shortest round-trip digits; take them and the decimal exponent.
        var text = "\(value.magnitude)"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let point = text.firstIndex(of: ".") ?? text.endIndex
        var digits = text.filter { $0 != "." }
        var decimalPoint = text.distance(from: text.startIndex, to: point) + exponent  // digits before the point
        while digits.first == "0" && digits.count > 1 {
            digits.removeFirst()
            decimalPoint -= 1
        }
        while digits.last == "0" && digits.count > 1 { digits.removeLast() }
        let sign = value < 0 ? "-" : ""
        let power = decimalPoint - 1
        if power < -4 || power >= 6 {
            let mantissa = digits.count > 1 ? "\(digits.first!).\(digits.dropFirst())" : digits
            let magnitude = abs(power)
            return sign + mantissa + "e" + (power < 0 ? "-" : "+") + (magnitude < 10 ? "0\(magnitude)" : "\(magnitude)")
        }
        if decimalPoint <= 0 { return sign + "0." + String(repeating: "0", count: -decimalPoint) + digits }
        if decimalPoint >= digits.count { return sign + digits + String(repeating: "0", count: decimalPoint - digits.count) }
        let split = digits.index(digits.startIndex, offsetBy: decimalPoint)
        return sign + digits[..<split] + "." + digits[split...]
    }

    /// The exposition: per family `# HELP`, `# TYPE`, then its samples.
    func text() -> String {
        var out = ""
        for family in families {
            out += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.type)\n"
            for sample in family.samples {
                out += family.name + (sample.labels.isEmpty ? "" : "{\(sample.labels)}") + " \(sample.value)\n"
            }
        }
        return out
    }
}
