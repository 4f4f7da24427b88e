import GRPCServer

/// What Go's `http.ServeMux` (which routes etcd's plain HTTP) answers before any handler: a path that is not clean
/// (`//health`, `/./version`, `/a/../b`) is redirected, 301, to its cleaned form with the query kept, and a path
/// naming a registered subtree without its slash (`/v3`) to the subtree (`/v3/`).
enum ServeMuxRedirect {
    /// The redirect for `request`, or nil when it is served as it is. `subtrees` are the registered subtree
    /// patterns (`/v3/`).
    static func response(to request: PlainHTTPRequest, subtrees: [String]) -> PlainHTTPResponse? {
        guard request.method != "CONNECT" else { return nil }
        var target = cleanPath(request.path)
        if subtrees.contains(target + "/") {
            target += "/"
        } else if target == request.path {
            return nil
        }
        let location = request.rawQuery.isEmpty ? target : target + "?" + request.rawQuery
        var headers = ["Location": location]
        var body: [UInt8] = []
        if request.method == "GET" || request.method == "HEAD" {
            headers["Content-Type"] = "text/html; charset=utf-8"
        }
        if request.method == "GET" {
            body = Array("<a href=\"\(htmlEscaped(location))\">Moved Permanently</a>.\n\n".utf8)
        }
        return PlainHTTPResponse(status: 301, headers: headers, body: body)
    }

    /// Go's `cleanPath`: `path.Clean` of the path made absolute (no empty, `.` or resolved `..` elements), keeping
    /// a trailing slash.
    static func cleanPath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var elements: [Substring] = []
        for element in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch element {
            case ".": continue
            case "..": if !elements.isEmpty { elements.removeLast() }
            default: elements.append(element)
            }
        }
        var cleaned = "/" + elements.joined(separator: "/")
        if path.hasSuffix("/") && cleaned != "/" { cleaned += "/" }
        return cleaned
    }

    /// Go's `htmlEscape`, for the link in a redirect's body.
    private static func htmlEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&#34;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
