extension GRPCServer.ListenAddress {
    /// Why a client URL cannot be listened on.
    public struct URLError: Error, Equatable, CustomStringConvertible {
        public let url: String
        public let reason: String
        public var description: String { "invalid client URL \"\(url)\": \(reason)" }
    }

    /// Parses one of etcd's client URLs (`http://127.0.0.1:2379`, `http://[::1]:2379`, `http://0.0.0.0:2379`).
    ///
    /// Only `http` (h2c with prior knowledge) is served so far; `https` and `unix` URLs are refused with a clear
    /// reason rather than silently served in plain text.
    public init(clientURL url: String) throws(URLError) {
        let trimmed = url.trimmingSpaces
        let parts = trimmed.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw URLError(url: url, reason: "missing scheme (expected http://host:port)")
        }
        let scheme = parts[0].lowercased()
        var rest = parts[1]
        switch scheme {
        case "http": break
        case "https": throw URLError(url: url, reason: "TLS is not supported yet; use http://")
        default: throw URLError(url: url, reason: "unsupported scheme \"\(scheme)\" (expected http)")
        }
        if let slash = rest.firstIndex(of: "/") {
            guard rest[slash...].allSatisfy({ $0 == "/" }) else {
                throw URLError(url: url, reason: "a client URL has no path")
            }
            rest = rest[..<slash]
        }
        let host: Substring
        let portText: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw URLError(url: url, reason: "unclosed [ in host") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let afterHost = rest[rest.index(after: close)...]
            guard afterHost.hasPrefix(":") else { throw URLError(url: url, reason: "missing port") }
            portText = afterHost.dropFirst()
        } else {
            guard let colon = rest.lastIndex(of: ":") else { throw URLError(url: url, reason: "missing port") }
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        }
        guard !host.isEmpty else { throw URLError(url: url, reason: "missing host") }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw URLError(url: url, reason: "invalid port \"\(portText)\"")
        }
        self.init(host: String(host), port: port)
    }

    /// Parses etcd's comma-separated URL list (`--listen-client-urls a,b`).
    public static func parseList(_ list: String) throws(URLError) -> [GRPCServer.ListenAddress] {
        var result: [GRPCServer.ListenAddress] = []
        for part in list.split(separator: ",", omittingEmptySubsequences: true) {
            result.append(try GRPCServer.ListenAddress(clientURL: String(part)))
        }
        guard !result.isEmpty else { throw URLError(url: list, reason: "no URL given") }
        return result
    }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        var slice = self[...]
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return slice
    }
}
