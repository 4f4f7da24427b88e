import EtcdProto
@testable import EtcdService
import GRPCServer
import Testing

@Suite("etcd's /health, /version and /metrics")
struct EtcdHTTPEndpointsTests {
    private func endpoints() throws -> (EtcdHTTPEndpoints, EtcdStore) {
        let store = try EtcdStore(identity: ClusterIdentity(clusterID: 1, memberID: 0xabc))
        return (EtcdHTTPEndpoints(store: store), store)
    }

    private func get(_ endpoints: EtcdHTTPEndpoints, _ target: String, method: String = "GET") -> PlainHTTPResponse {
        endpoints.respond(to: PlainHTTPRequest(method: method, target: target))
    }

    @Test("/health is true until an alarm is raised, then 503 with the alarm as reason unless excluded")
    func health() throws {
        let (endpoints, store) = try endpoints()
        let healthy = get(endpoints, "/health")
        #expect(healthy.status == 200)
        #expect(String(decoding: healthy.body, as: UTF8.self) == #"{"health":"true","reason":""}"#)
        _ = store.alarm(AlarmRequest(action: 1, memberID: 0xabc, alarm: AlarmMember.noSpace))
        let unhealthy = get(endpoints, "/health")
        #expect(unhealthy.status == 503)
        #expect(String(decoding: unhealthy.body, as: UTF8.self) == #"{"health":"false","reason":"ALARM NOSPACE"}"# + "\n")
        #expect(get(endpoints, "/health?exclude=NOSPACE").status == 200)
        #expect(get(endpoints, "/health?exclude=CORRUPT").status == 503)
        let metrics = String(decoding: get(endpoints, "/metrics").body, as: UTF8.self)
        #expect(metrics.contains("etcd_server_health_success 2\n"))
        #expect(metrics.contains("etcd_server_health_failures 2\n"))
    }

    @Test("/livez and /readyz: ok, the checks listed with ?verbose, CORRUPT (not NOSPACE) makes a member unready")
    func probes() throws {
        let (endpoints, store) = try endpoints()
        let text = { (response: PlainHTTPResponse) in String(decoding: response.body, as: UTF8.self) }
        #expect(text(get(endpoints, "/livez")) == "ok\n")
        #expect(text(get(endpoints, "/livez?verbose")) == "[+]serializable_read ok\nok\n")
        #expect(text(get(endpoints, "/readyz?verbose=1&exclude=linearizable_read"))
            == "[+]data_corruption ok\n[+]serializable_read ok\nok\n")
        _ = store.alarm(AlarmRequest(action: 1, memberID: 0xabc, alarm: AlarmMember.noSpace))
        #expect(get(endpoints, "/readyz").status == 200, "NOSPACE leaves a member ready")
        _ = store.alarm(AlarmRequest(action: 1, memberID: 0xabc, alarm: 2))
        let unready = get(endpoints, "/readyz")
        #expect(unready.status == 503)
        #expect(text(unready) == "[-]data_corruption failed: alarm activated: CORRUPT\n[+]serializable_read ok\n"
            + "[+]linearizable_read ok\n\n")
        #expect(get(endpoints, "/readyz/data_corruption").status == 503)
        #expect(get(endpoints, "/readyz/serializable_read").status == 200)
        #expect(get(endpoints, "/readyz?exclude=data_corruption").status == 200)
        #expect(get(endpoints, "/livez").status == 200, "a corrupt member is still alive")
        #expect(get(endpoints, "/livez", method: "POST").status == 405)
        #expect(get(endpoints, "/livez/").status == 404)
        #expect(get(endpoints, "/livez/data_corruption").status == 404, "a readiness check only")
    }

    @Test("/health and /version take GET only; other paths are not found")
    func methodsAndPaths() throws {
        let (endpoints, _) = try endpoints()
        for path in ["/health", "/version"] {
            let refused = get(endpoints, path, method: "POST")
            #expect(refused.status == 405)
            #expect(refused.headers["Allow"] == "GET")
            #expect(refused.body == Array("Method Not Allowed\n".utf8))
        }
        #expect(get(endpoints, "/").status == 404)
        #expect(get(endpoints, "/v3/kv/range", method: "POST").status == 404)
    }

    @Test("/version names the etcd release Vigil implements, as JSON")
    func version() throws {
        let (endpoints, _) = try endpoints()
        let response = get(endpoints, "/version")
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(String(decoding: response.body, as: UTF8.self)
            == #"{"etcdserver":"\#(VigilVersion.etcdAPI)","etcdcluster":"\#(VigilVersion.etcdCluster)"}"#)
    }

    @Test("/metrics reports the store's revision, sizes and watchers in Prometheus' text format")
    func metrics() throws {
        let (endpoints, store) = try endpoints()
        for i in 0..<3 { store.put(PutRequest(key: Array("k\(i)".utf8), value: [1])) { _ in } }  // in memory: at once
        let response = get(endpoints, "/metrics")
        #expect(response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8")
        let lines = String(decoding: response.body, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.contains("etcd_debugging_mvcc_current_revision 4"))
        #expect(lines.contains("etcd_debugging_mvcc_compact_revision -1"))
        #expect(lines.contains(#"etcd_server_id{server_id="abc"} 1"#))
        #expect(lines.contains("etcd_server_has_leader 1"))
        #expect(lines.contains("# TYPE etcd_debugging_mvcc_watcher_total gauge"))
        // Every sample follows its family's HELP and TYPE lines.
        var family = ""
        for line in lines {
            if line.hasPrefix("# HELP ") {
                family = String(line.dropFirst(7).prefix { $0 != " " })
            } else if !line.hasPrefix("#") {
                #expect(line.hasPrefix(family), "\(line) outside its family \(family)")
            }
        }
    }

    @Test("sample values are written as Go's Prometheus client writes them (strconv 'g', shortest)")
    func numbers() {
        let expected: [(Double, String)] = [
            (0, "0"), (-1, "-1"), (999_999, "999999"), (1_000_000, "1e+06"), (2_147_483_648, "2.147483648e+09"),
            (8_589_934_592, "8.589934592e+09"), (1_200_000_000_000, "1.2e+12"), (-3_500_000, "-3.5e+06"),
            (0.04, "0.04"), (0.0001, "0.0001"), (0.00001, "1e-05"), (123.5, "123.5"), (24_707_072, "2.4707072e+07"),
            (1_796_680_102.44, "1.79668010244e+09"), (0x1p64, "1.8446744073709552e+19"), (1.5e300, "1.5e+300"),
        ]
        for (value, text) in expected {
            #expect(EtcdMetrics.number(value) == text, "\(value)")
        }
    }

    @Test("the process's own figures come from /proc")
    func processFigures() throws {
        let own = ProcessMetrics.current()
        #expect((own.residentBytes ?? 0) > 1 << 20)
        #expect((own.openFDs ?? 0) >= 3)
        #expect((own.maxFDs ?? 0) >= own.openFDs ?? 0)
        #expect((own.startTimeSeconds ?? 0) > 1.6e9)
        #expect(ProcessMetrics.statFields("42 (a (b) c) S 1 2")?.first == "S", "a command name with parentheses")
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n"
            + "Max open files            1024                 4096                 files\n"
            + "Max address space         unlimited            unlimited            bytes\n"
        #expect(ProcessMetrics.softLimit(named: "Max open files", in: limits) == "1024")
        #expect(ProcessMetrics.softLimit(named: "Max address space", in: limits) == "unlimited")
    }
}
