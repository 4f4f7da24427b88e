import EtcdProto
import GRPCServer

/// etcd's `/livez` and `/readyz` (3.5.11 and later; kubeadm's liveness, readiness and startup probes): named checks
/// run in order, `ok` when all pass, 503 with a line per check when one fails. `?verbose` lists the checks on
/// success too, `?exclude=name` leaves one out, and `/livez/<name>` runs one alone.
struct ProbeChecks: Sendable {
    /// One named check: nil when it passes, else why it failed.
    typealias Check = (name: String, run: @Sendable () -> String?)

    /// The probe's path (`/livez`).
    let path: String
    let checks: [Check]

    /// `/livez`: the member can read its own data.
    static func liveness(store: EtcdStore) -> ProbeChecks {
        ProbeChecks(path: "/livez", checks: [("serializable_read", { read(store) })])
    }

    /// `/readyz`: no CORRUPT alarm (NOSPACE does not make a member unready: it still reads and deletes), and both
    /// kinds of read work — for a single member a linearizable read is a local one.
    static func readiness(store: EtcdStore) -> ProbeChecks {
        ProbeChecks(path: "/readyz", checks: [
            ("data_corruption", {
                let corrupt = store.alarm(AlarmRequest(action: 0, memberID: 0, alarm: 2)).alarms
                return corrupt.isEmpty ? nil : "alarm activated: CORRUPT"
            }),
            ("serializable_read", { read(store) }),
            ("linearizable_read", { read(store) }),
        ])
    }

    /// A read of the store: taking its lock for the current revision, which fails only by never answering.
    private static func read(_ store: EtcdStore) -> String? {
        _ = store.currentRevision
        return nil
    }

    /// The answer to `request` if its path is this probe's or one of its checks', else nil.
    func respond(to request: PlainHTTPRequest) -> PlainHTTPResponse? {
        let selected: [Check]
        if request.path == path {
            let excluded = Set(request.values(of: "exclude"))
            selected = checks.filter { !excluded.contains($0.name) }
        } else if let check = checks.first(where: { request.path == path + "/" + $0.name }) {
            selected = [check]
        } else {
            return nil
        }
        guard request.method == "GET" else {
            return .methodNotAllowed(allowing: "GET")
        }
        var report = ""
        var failed = false
        for check in selected {
            if let failure = check.run() {
                report += "[-]\(check.name) failed: \(failure)\n"
                failed = true
            } else {
                report += "[+]\(check.name) ok\n"
            }
        }
        if failed { return .error(503, report) }
        let verbose = request.query.contains { $0.name == "verbose" }
        return PlainHTTPResponse(
            status: 200, headers: ["Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"],
            body: Array(((verbose ? report : "") + "ok\n").utf8))
    }
}
