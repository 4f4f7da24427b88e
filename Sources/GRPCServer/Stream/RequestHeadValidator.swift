/// Decides whether a request's HEADERS start a gRPC call, following grpc-go's server (which etcd runs on).
public enum RequestHeadValidator {
    /// The outcome of validating a request's HEADERS.
    public enum Outcome: Equatable, Sendable {
        /// A well-formed gRPC request.
        case accept(GRPCRequestHead)
        /// Not gRPC at all: answer with this HTTP status (and a gRPC status for clients that look).
        case rejectHTTP(status: Int, GRPCStatus)
        /// gRPC, but unacceptable: a trailers-only response with this status.
        case rejectGRPC(GRPCStatus)
        /// Not a well-formed HTTP/2 request (``HeaderBlockRules``): the stream is reset with PROTOCOL_ERROR.
        case malformed
    }

    public static func validate(_ headers: [HeaderField]) -> Outcome {
        guard HeaderBlockRules.isWellFormedRequest(headers) else { return .malformed }
        var method: String?
        var path: String?
        var contentType: String?
        var timeout: String?
        var encoding: String?
        var metadata: [HeaderField] = []
        metadata.reserveCapacity(headers.count)
        for field in headers {
            switch field.name {
            case ":method": method = field.value
            case ":path": path = field.value
            case ":scheme", ":authority": break
            case "content-type": contentType = field.value
            case "grpc-timeout": timeout = field.value
            case "grpc-encoding": encoding = field.value
            default: if !field.name.hasPrefix(":") { metadata.append(field) }
            }
        }

        guard let contentType, isGRPCContentType(contentType) else {
            let shown = contentType ?? ""
            return .rejectHTTP(status: 415, GRPCStatus(.internal, "invalid gRPC request content-type \"\(shown)\""))
        }
        guard method == "POST" else {
            return .rejectHTTP(status: 405, GRPCStatus(.internal, "invalid gRPC request method \"\(method ?? "")\""))
        }
        guard let path, let (service, methodName) = splitPath(path) else {
            return .rejectGRPC(GRPCStatus(.unimplemented, "malformed method name: \"\(path ?? "")\""))
        }
        var parsedTimeout: GRPCTimeout?
        if let timeout {
            guard let value = GRPCTimeout(headerValue: timeout) else {
                return .rejectGRPC(GRPCStatus(.internal, "transport: malformed grpc-timeout: \"\(timeout)\""))
            }
            parsedTimeout = value
        }
        return .accept(
            GRPCRequestHead(
                path: path, service: service, method: methodName, timeout: parsedTimeout, encoding: encoding,
                metadata: metadata))
    }

    /// `application/grpc`, optionally followed by `+codec` or `;parameters`.
    static func isGRPCContentType(_ value: String) -> Bool {
        if value == "application/grpc" { return true }  // what every stock client sends
        let lowered = value.lowercased()
        guard lowered.hasPrefix("application/grpc") else { return false }
        let rest = lowered.dropFirst("application/grpc".count)
        return rest.isEmpty || rest.first == "+" || rest.first == ";"
    }

    /// `/service/method` → (`service`, `method`), both non-empty.
    static func splitPath(_ path: String) -> (String, String)? {
        // On the UTF-8 bytes: `/` is ASCII, so a byte split never cuts a character.
        let bytes = path.utf8
        guard bytes.first == UInt8(ascii: "/"), let slash = bytes.lastIndex(of: UInt8(ascii: "/")),
            slash != bytes.startIndex
        else { return nil }
        let serviceStart = bytes.index(after: bytes.startIndex)
        let methodStart = bytes.index(after: slash)
        guard serviceStart < slash, methodStart < bytes.endIndex else { return nil }
        return (String(path[serviceStart..<slash]), String(path[methodStart...]))
    }
}
