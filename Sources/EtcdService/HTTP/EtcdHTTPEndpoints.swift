import EtcdProto
public import GRPCServer
public import Logging
public import NIOCore
import NIOConcurrencyHelpers

/// What etcd serves over plain HTTP/1.1 on its client port, for `curl`, load balancers, Kubernetes probes and
/// Prometheus: `/health`, `/livez`, `/readyz`, `/version`, `/metrics` and the JSON gateway (`/v3/...`, see
/// ``JSONGateway``), answered as etcd 3.5 answers them (status codes, bodies, content types, `Method Not Allowed`
/// and `404 page not found`).
public final class EtcdHTTPEndpoints: PlainHTTPResponder {
    private let store: EtcdStore
    /// Whether `/version` is served: on the client port, not on a `--listen-metrics-urls` listener (as etcd).
    private let servesVersion: Bool
    /// `/health` answers so far, true and false: etcd's `etcd_server_health_success` and `_failures`.
    private let healthCounts = NIOLockedValueBox((success: 0, failure: 0))

    /// `/livez` and `/readyz`, with their checks.
    private let probes: [ProbeChecks]
    /// etcd's JSON gateway (`/v3/...`), on the client port only.
    private let gateway: JSONGateway?
    /// `--host-whitelist` and `--cors`, on the client port only (etcd's metrics listener has neither).
    private let accessControl: HTTPAccessControl?

    /// The endpoints of the client port (with `router`, the JSON gateway over its methods) or, without
    /// `/version` and the gateway, of a `--listen-metrics-urls` listener.
    public init(
        store: EtcdStore, router: GRPCRouter? = nil, logger: Logger? = nil, servesVersion: Bool = true,
        accessControl: HTTPAccessControl? = nil
    ) {
        self.store = store
        self.servesVersion = servesVersion
        self.accessControl = accessControl
        probes = [ProbeChecks.liveness(store: store), ProbeChecks.readiness(store: store)]
        gateway = router.map { JSONGateway(router: $0, logger: logger ?? Logger(label: "vigil.gateway")) }
    }

    public func respond(
        to request: PlainHTTPRequest, on eventLoop: any EventLoop, reply: @escaping @Sendable (PlainHTTPResponse) -> Void
    ) {
        guard let accessControl else { return serve(request, on: eventLoop, reply: reply) }
        switch accessControl.decide(request) {
        case .refuse(let response), .answer(let response):
            reply(response)
        case .serve(let request, let headers):
            serve(request, on: eventLoop) { response in
                var response = response
                response.headers.merge(headers) { own, _ in own }
                reply(response)
            }
        }
    }

    /// The gateway's streaming methods (`POST /v3/watch`, …) are answered as streams.
    public func streamHandler(
        for request: PlainHTTPRequest, response: PlainHTTPResponseStream
    ) -> (any PlainHTTPStreamHandler)? {
        var request = request
        if let accessControl {
            // A refused request is answered whole, by ``respond(to:on:reply:)``.
            guard case .serve(let allowed, let headers) = accessControl.decide(request) else { return nil }
            request = allowed
            response.headers.merge(headers) { own, _ in own }
        }
        return gateway?.streamHandler(for: request, response: response)
    }

    /// Serves a request the access control let through.
    private func serve(
        _ request: PlainHTTPRequest, on eventLoop: any EventLoop, reply: @escaping @Sendable (PlainHTTPResponse) -> Void
    ) {
        if let redirect = ServeMuxRedirect.response(to: request, subtrees: gateway == nil ? [] : ["/v3/"]) {
            return reply(redirect)
        }
        if let gateway, gateway.respond(to: request, on: eventLoop, reply: reply) { return }
        reply(respond(to: request))
    }

    /// The answer to a request for anything but the gateway (all answered at once).
    func respond(to request: PlainHTTPRequest) -> PlainHTTPResponse {
        switch request.path {
        case "/health": return health(request)
        case "/version" where servesVersion: return version(request)
        case "/metrics": return metrics()
        default:
            for probe in probes {
                if let response = probe.respond(to: request) { return response }
            }
            return .notFound
        }
    }

    /// etcd's `/health`: `{"health":"true","reason":""}`, or 503 with `{"health":"false","reason":"ALARM NOSPACE"}`
    /// while an alarm is raised (`?exclude=NOSPACE` leaves that alarm out). etcd then checks its raft leader and
    /// makes a one-key read; a single Vigil member always leads, and the read here is taking the store's lock for
    /// the current revision, which fails only by never answering — as etcd's would.
    private func health(_ request: PlainHTTPRequest) -> PlainHTTPResponse {
        guard request.method == "GET" else { return .methodNotAllowed(allowing: "GET") }
        let excluded = Set(request.values(of: "exclude"))
        let raised = store.alarm(AlarmRequest(action: 0, memberID: 0, alarm: 0)).alarms
        var reason = ""
        if let alarm = raised.first(where: { !excluded.contains(Self.alarmName($0.alarm)) }) {
            reason = "ALARM " + (alarm.alarm == 1 || alarm.alarm == 2 ? Self.alarmName(alarm.alarm) : "UNKNOWN")
        } else {
            _ = store.currentRevision
        }
        healthCounts.withLockedValue { counts in
            if reason.isEmpty { counts.success += 1 } else { counts.failure += 1 }
        }
        let body = #"{"health":"\#(reason.isEmpty)","reason":"\#(reason)"}"#
        guard reason.isEmpty else { return .error(503, body) }
        return PlainHTTPResponse(status: 200, headers: ["Content-Type": "text/plain; charset=utf-8"],
                                 body: Array(body.utf8))
    }

    /// `AlarmType`'s names, as `?exclude=` spells them.
    private static func alarmName(_ alarm: Int32) -> String {
        switch alarm {
        case 0: "NONE"
        case 1: "NOSPACE"
        case 2: "CORRUPT"
        default: "\(alarm)"
        }
    }

    /// etcd's `/version`: the server's release and the cluster's version (its major.minor.0).
    private func version(_ request: PlainHTTPRequest) -> PlainHTTPResponse {
        guard request.method == "GET" else { return .methodNotAllowed(allowing: "GET") }
        let body = #"{"etcdserver":"\#(VigilVersion.etcdAPI)","etcdcluster":"\#(VigilVersion.etcdCluster)"}"#
        return PlainHTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: Array(body.utf8))
    }

    /// `/metrics` in Prometheus' text format, any method (as promhttp).
    private func metrics() -> PlainHTTPResponse {
        let counts = healthCounts.withLockedValue { $0 }
        let text = EtcdMetrics(store: store, healthSuccesses: counts.success, healthFailures: counts.failure).text()
        return PlainHTTPResponse(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                                 body: Array(text.utf8))
    }
}
