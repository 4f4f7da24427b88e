import EtcdProto
import GRPCServer
import Logging
import NIOCore

/// etcd's gRPC gateway: the unary methods of its services as `POST /v3/...` with JSON bodies (`curl -X POST
/// http://127.0.0.1:2379/v3/kv/range -d '{"key":"Zm9v"}'`), for clients without gRPC. Each request is turned into
/// the method's protobuf request (``ProtoJSON``, from protobuf-c's descriptors), served by the same router as a gRPC
/// call, and the response turned back into JSON as etcd's gateway writes it. The streaming methods (Watch, lease
/// keep-alive, Snapshot) stream: requests read from the body as they arrive, each response a `{"result":…}` line
/// (``GatewayStream``).
struct JSONGateway: Sendable {
    let router: GRPCRouter
    let logger: Logger

    /// etcd 3.5's gateway paths (`google.api.http` in its rpc.proto) → `Service/Method`.
    static let routes: [String: String] = [
        "/v3/kv/range": "etcdserverpb.KV/Range",
        "/v3/kv/put": "etcdserverpb.KV/Put",
        "/v3/kv/deleterange": "etcdserverpb.KV/DeleteRange",
        "/v3/kv/txn": "etcdserverpb.KV/Txn",
        "/v3/kv/compaction": "etcdserverpb.KV/Compact",
        "/v3/lease/grant": "etcdserverpb.Lease/LeaseGrant",
        "/v3/lease/revoke": "etcdserverpb.Lease/LeaseRevoke",
        "/v3/kv/lease/revoke": "etcdserverpb.Lease/LeaseRevoke",
        "/v3/lease/timetolive": "etcdserverpb.Lease/LeaseTimeToLive",
        "/v3/kv/lease/timetolive": "etcdserverpb.Lease/LeaseTimeToLive",
        "/v3/lease/leases": "etcdserverpb.Lease/LeaseLeases",
        "/v3/kv/lease/leases": "etcdserverpb.Lease/LeaseLeases",
        "/v3/cluster/member/add": "etcdserverpb.Cluster/MemberAdd",
        "/v3/cluster/member/remove": "etcdserverpb.Cluster/MemberRemove",
        "/v3/cluster/member/update": "etcdserverpb.Cluster/MemberUpdate",
        "/v3/cluster/member/list": "etcdserverpb.Cluster/MemberList",
        "/v3/cluster/member/promote": "etcdserverpb.Cluster/MemberPromote",
        "/v3/maintenance/alarm": "etcdserverpb.Maintenance/Alarm",
        "/v3/maintenance/status": "etcdserverpb.Maintenance/Status",
        "/v3/maintenance/defragment": "etcdserverpb.Maintenance/Defragment",
        "/v3/maintenance/hash": "etcdserverpb.Maintenance/Hash",
        "/v3/maintenance/hashkv": "etcdserverpb.Maintenance/HashKV",
        "/v3/maintenance/transfer-leadership": "etcdserverpb.Maintenance/MoveLeader",
        "/v3/maintenance/downgrade": "etcdserverpb.Maintenance/Downgrade",
        "/v3/auth/enable": "etcdserverpb.Auth/AuthEnable",
        "/v3/auth/disable": "etcdserverpb.Auth/AuthDisable",
        "/v3/auth/status": "etcdserverpb.Auth/AuthStatus",
        "/v3/auth/authenticate": "etcdserverpb.Auth/Authenticate",
        "/v3/auth/user/add": "etcdserverpb.Auth/UserAdd",
        "/v3/auth/user/get": "etcdserverpb.Auth/UserGet",
        "/v3/auth/user/list": "etcdserverpb.Auth/UserList",
        "/v3/auth/user/delete": "etcdserverpb.Auth/UserDelete",
        "/v3/auth/user/changepw": "etcdserverpb.Auth/UserChangePassword",
        "/v3/auth/user/grant": "etcdserverpb.Auth/UserGrantRole",
        "/v3/auth/user/revoke": "etcdserverpb.Auth/UserRevokeRole",
        "/v3/auth/role/add": "etcdserverpb.Auth/RoleAdd",
        "/v3/auth/role/get": "etcdserverpb.Auth/RoleGet",
        "/v3/auth/role/list": "etcdserverpb.Auth/RoleList",
        "/v3/auth/role/delete": "etcdserverpb.Auth/RoleDelete",
        "/v3/auth/role/grant": "etcdserverpb.Auth/RoleGrantPermission",
        "/v3/auth/role/revoke": "etcdserverpb.Auth/RoleRevokePermission",
    ]

    /// etcd 3.5's gateway paths of streaming methods → `Service/Method` and how it takes requests.
    static let streamingRoutes: [String: (method: String, kind: GatewayStream.Kind)] = [
        "/v3/watch": ("etcdserverpb.Watch/Watch", .bidirectional),
        "/v3/lease/keepalive": ("etcdserverpb.Lease/LeaseKeepAlive", .bidirectional),
        "/v3/maintenance/snapshot": ("etcdserverpb.Maintenance/Snapshot", .serverStreaming),
    ]

    /// The handler of a `POST` to a streaming method's path, answering through `response`; nil for any other
    /// request.
    func streamHandler(for request: PlainHTTPRequest, response: PlainHTTPResponseStream) -> GatewayStream? {
        guard request.method == "POST", let (method, kind) = Self.streamingRoutes[request.path],
            let types = MessageSchema.methods[method], let input = MessageSchema.registry[types.request],
            let output = MessageSchema.registry[types.response]
        else { return nil }
        let writer = GatewayResponseWriter(response: response, schema: output)
        guard case .success(let handler) = router.openStream(path: "/" + method, writer: writer) else { return nil }
        writer.handler = handler
        return GatewayStream(kind: kind, input: input, response: response, handler: handler)
    }

    /// Serves `request` if its path is a gateway path (answering through `reply`); false otherwise.
    func respond(
        to request: PlainHTTPRequest, on eventLoop: any EventLoop,
        reply: @escaping @Sendable (PlainHTTPResponse) -> Void
    ) -> Bool {
        if Self.streamingRoutes[request.path] != nil {
            // A POST was answered as a stream (``streamHandler(for:response:)``).
            reply(.methodNotAllowed())
            return true
        }
        guard let method = Self.routes[request.path] else {
            guard request.path.hasPrefix("/v3/") else { return false }
            reply(PlainHTTPResponse.error(404, "Not Found"))
            return true
        }
        guard request.method == "POST" else {
            reply(.methodNotAllowed())
            return true
        }
        guard let types = MessageSchema.methods[method], let input = MessageSchema.registry[types.request],
            let output = MessageSchema.registry[types.response]
        else {
            reply(Self.failure(GRPCStatus(.unimplemented, "unknown method \(method)")))
            return true
        }
        let message: [UInt8]
        do {
            message = try ProtoJSON.encode(json: request.body, as: input)
        } catch {
            reply(Self.failure(GRPCStatus(.invalidArgument, error.message)))
            return true
        }
        router.callUnary(path: "/" + method, request: message, eventLoop: eventLoop, logger: logger) { result in
            switch result {
            case .success(let bytes):
                do throws(ProtoJSON.Failure) {
                    let json = try ProtoJSON.json(of: bytes, as: output)
                    reply(PlainHTTPResponse(status: 200, headers: Self.successHeaders, body: Array(json.utf8)))
                } catch {
                    reply(Self.failure(GRPCStatus(.internal, error.message)))
                }
            case .failure(let status):
                reply(Self.failure(status))
            }
        }
        return true
    }

    /// The headers of a successful answer: its type, and the gRPC response headers the gateway received, as
    /// grpc-gateway forwards them.
    static let successHeaders = ["Content-Type": "application/json", "Grpc-Metadata-Content-Type": "application/grpc"]

    /// An error as etcd's gateway (grpc-gateway v1) writes it: `{"error":…,"message":…,"code":…}` with the HTTP
    /// status its `HTTPStatusFromCode` gives.
    static func failure(_ status: GRPCStatus) -> PlainHTTPResponse {
        let message = ProtoJSON.quoted(status.message)
        let body = #"{"error":\#(message),"message":\#(message),"code":\#(status.code.rawValue)}"#
        return PlainHTTPResponse(status: httpStatus(status.code), headers: ["Content-Type": "application/json"],
                                 body: Array(body.utf8))
    }

    /// An error ending a streamed answer, as grpc-gateway v1 writes it (`{"error":{"grpc_code":…,"http_code":…,
    /// "message":…,"http_status":…}}`).
    static func streamError(_ status: GRPCStatus) -> String {
        let http = httpStatus(status.code)
        return #"{"error":{"grpc_code":\#(status.code.rawValue),"http_code":\#(http),"#
            + #""message":\#(ProtoJSON.quoted(status.message)),"http_status":"\#(statusText(http))"}}"#
    }

    /// Go's `http.StatusText` for the statuses ``httpStatus(_:)`` gives.
    static func statusText(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 412: "Precondition Failed"
        case 429: "Too Many Requests"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Internal Server Error"
        }
    }

    /// grpc-gateway v1's mapping of gRPC codes to HTTP statuses (as etcd answers: FAILED_PRECONDITION is 412).
    static func httpStatus(_ code: GRPCStatus.Code) -> Int {
        switch code.rawValue {
        case 0: 200
        case 1: 408  // canceled
        case 3, 11: 400  // invalid argument, out of range
        case 9: 412  // failed precondition
        case 4: 504  // deadline exceeded
        case 5: 404
        case 6, 10: 409  // already exists, aborted
        case 7: 403
        case 8: 429  // resource exhausted
        case 12: 501  // unimplemented
        case 14: 503  // unavailable
        case 16: 401  // unauthenticated
        default: 500  // unknown, internal, data loss
        }
    }
}
