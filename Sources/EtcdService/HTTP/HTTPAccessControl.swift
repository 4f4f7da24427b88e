public import GRPCServer

/// etcd's access controller in front of what its client port serves over plain HTTP: `--host-whitelist` (a request
/// whose `Host` is not listed is refused with 421, against DNS rebinding — CVE-2018-5702), `--cors` (the CORS
/// headers, for every origin or for the listed ones), `OPTIONS` answered at once, and `/v3beta/…` read as `/v3/…`.
/// An empty list, or one holding `*`, allows everything (etcd's defaults are `*`).
public struct HTTPAccessControl: Sendable {
    /// Origins given CORS headers (`--cors`).
    public var allowedOrigins: Set<String>
    /// Host names served (`--host-whitelist`), compared with the `Host` header's name without its port.
    public var allowedHosts: Set<String>

    public init(cors: [String] = ["*"], hostWhitelist: [String] = ["*"]) {
        allowedOrigins = Set(cors)
        allowedHosts = Set(hostWhitelist)
    }

    /// What becomes of a request.
    public enum Decision: Equatable, Sendable {
        /// Refused with this answer.
        case refuse(PlainHTTPResponse)
        /// Answered with this answer at once (`OPTIONS`).
        case answer(PlainHTTPResponse)
        /// Served as `request` (its path rewritten where etcd rewrites it), with `headers` added to the answer.
        case serve(PlainHTTPRequest, headers: [String: String])
    }

    /// The decision on `request`, in etcd's order: path rewrite, host check, CORS headers, `OPTIONS`.
    public func decide(_ request: PlainHTTPRequest) -> Decision {
        var request = request
        if request.path.hasPrefix("/v3beta/") { request.path = "/v3/" + request.path.dropFirst("/v3beta/".count) }
        let host = Self.hostname(request.header("Host") ?? "")
        guard Self.allows(allowedHosts, host) else { return .refuse(.error(421, Self.misdirected(host))) }
        var headers: [String: String] = [:]
        if Self.allows(allowedOrigins, "*") {
            headers = Self.corsHeaders(origin: "*")
        } else if let origin = request.header("Origin"), Self.allows(allowedOrigins, origin) {
            headers = Self.corsHeaders(origin: origin)
        }
        if request.method == "OPTIONS" { return .answer(PlainHTTPResponse(status: 200, headers: headers, body: [])) }
        return .serve(request, headers: headers)
    }

    /// Whether `list` allows `value`: empty, `*`, or listing it.
    private static func allows(_ list: Set<String>, _ value: String) -> Bool {
        list.isEmpty || list.contains("*") || list.contains(value)
    }

    /// The headers etcd adds for an allowed origin.
    private static func corsHeaders(origin: String) -> [String: String] {
        [
            "Access-Control-Allow-Methods": "POST, GET, OPTIONS, PUT, DELETE",
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Headers": "accept, content-type, authorization",
        ]
    }

    /// The host name of a `Host` header as Go's `net.SplitHostPort` leaves it: `example.com:2379` → `example.com`,
    /// `[::1]:2379` → `::1`; a value without a port (or otherwise unsplittable) stays whole.
    static func hostname(_ host: String) -> String {
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            let after = host[host.index(after: close)...]
            guard after.first == ":", !after.dropFirst().contains(":") else { return host }
            return String(host[host.index(after: host.startIndex)..<close])
        }
        let parts = host.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].contains("[") && !parts[1].contains("]") ? String(parts[0]) : host
    }

    /// etcd's answer to a host it does not serve (its `errCVE20185702`).
    static func misdirected(_ host: String) -> String {
        """

        etcd received your request, but the Host header was unrecognized.

        To fix this, choose one of the following options:
        - Enable TLS, then any HTTPS request will be allowed.
        - Add the hostname you want to use to the whitelist in settings.
          - e.g. etcd --host-whitelist "\(host)"

        This requirement has been added to help prevent "DNS Rebinding" attacks (CVE-2018-5702).

        """
    }
}
