import Foundation

/// The process facts Prometheus' client libraries export as `process_*` (read from `/proc` on Linux), which
/// `etcdctl check datascale` reads from etcd's `/metrics` (`process_resident_memory_bytes`) and dashboards chart.
/// Any figure `/proc` does not give is left out.
struct ProcessMetrics {
    /// User and system CPU time, in seconds.
    var cpuSeconds: Double?
    /// Resident and virtual memory, in bytes.
    var residentBytes: Int64?
    var virtualBytes: Int64?
    /// Open file descriptors, and the limit on them.
    var openFDs: Int64?
    var maxFDs: Int64?
    /// The limit on virtual memory (`RLIMIT_AS`; unlimited is reported as 2^64, as Go's client does).
    var maxVirtualBytes: Double?
    /// When the process started, in seconds since 1970.
    var startTimeSeconds: Double?

    /// Reads the current process's figures.
    static func current() -> ProcessMetrics {
        var metrics = ProcessMetrics()
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let fields = statFields(stat)
        {
            // After the command's closing parenthesis: field 3 (state) is fields[0]; utime is field 14,
            // stime 15, starttime 22, vsize 23, rss 24 (proc(5)).
            func field(_ number: Int) -> Int64? { fields.count > number - 3 ? Int64(fields[number - 3]) : nil }
            if let user = field(14), let system = field(15), ticksPerSecond > 0 {
                metrics.cpuSeconds = Double(user + system) / ticksPerSecond
            }
            metrics.virtualBytes = field(23)
            metrics.residentBytes = field(24).map { $0 * pageSize }
            if let start = field(22), let boot = bootTime(), ticksPerSecond > 0 {
                metrics.startTimeSeconds = Double(boot) + Double(start) / ticksPerSecond
            }
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            metrics.openFDs = Int64(descriptors.count)
        }
        if let limits = try? String(contentsOfFile: "/proc/self/limits", encoding: .utf8) {
            metrics.maxFDs = softLimit(named: "Max open files", in: limits).flatMap { Int64($0) }
            metrics.maxVirtualBytes = softLimit(named: "Max address space", in: limits).map {
                $0 == "unlimited" ? 0x1p64 : Double($0) ?? 0
            }
        }
        return metrics
    }

    /// The fields of `/proc/self/stat` after the command name (which may hold spaces and parentheses).
    static func statFields(_ stat: String) -> [Substring]? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// `btime` of `/proc/stat`: when the system booted, in seconds since 1970.
    private static func bootTime() -> Int64? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Int64(line.dropFirst(6))
        }
        return nil
    }

    /// The soft limit column of a `/proc/self/limits` row.
    static func softLimit(named name: String, in limits: String) -> String? {
        for line in limits.split(separator: "\n") where line.hasPrefix(name) {
            return line.dropFirst(name.count).split(separator: " ").first.map(String.init)
        }
        return nil
    }
}
