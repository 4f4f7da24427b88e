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
            Family(name: name, help: help, type: "gauge", samples: [(labels, Self.number(Int64(value)))])
        }
        func counter(_ name: String, _ help: String, _ value: some BinaryInteger) -> Family {
            Family(name: name, help: help, type: "counter", samples: [("", Self.number(Int64(value)))])
        }
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
        ]
    }

    /// A sample value as Prometheus' Go client writes it (Go's shortest `%g`): integers below 10^6 plainly, larger
    /// ones in exponent form with the trailing zeros dropped (2147483648 → `2.147483648e+09`, 10^6 → `1e+06`).
    static func number(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        let exponent = digits.count - 1
        guard exponent >= 6 else { return String(value) }
        var mantissa = digits.dropFirst()
        while mantissa.last == "0" { mantissa = mantissa.dropLast() }
        let sign = value < 0 ? "-" : ""
        return sign + String(digits.first!) + (mantissa.isEmpty ? "" : "." + mantissa) + "e+"
            + (exponent < 10 ? "0\(exponent)" : "\(exponent)")
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
