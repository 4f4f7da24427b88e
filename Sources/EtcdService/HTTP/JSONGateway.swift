import EtcdProto
import GRPCServer
import Logging
import NIOCore

/// etcd's gRPC gateway: the unary methods of its services as `POST /v3/...` with JSON bodies (`curl -X POST
/// http://127.0.0.1:2379/v3/kv/range -d '{"key":"Zm9v"}'`), for clients without gRPC. Each request is turned into
/// the method's protobuf request (``ProtoJSON``, from protobuf-c's descriptors), served by the same router as a gRPC
/// call, and the response turned back into JSON as etcd's gateway writes it. Of the streaming methods only lease
/// keep-alive is served (its requests are all in the body); Watch and Snapshot are not.
struct JSONGateway: Sendable {
    let router: GRPCRouter
    let logger: Logger
    /// For `/v3/lease/keepalive`, the one streaming path served (each request in the body answered in turn).
    let store: EtcdStore

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

    /// Serves `request` if its path is a gateway path (answering through `reply`); false otherwise.
    func respond(
        to request: PlainHTTPRequest, on eventLoop: any EventLoop,
        reply: @escaping @Sendable (PlainHTTPResponse) -> Void
    ) -> Bool {
        if request.path == "/v3/lease/keepalive" {
            reply(request.method == "POST" ? keepAlive(request.body) : .methodNotAllowed())
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
                    reply(PlainHTTPResponse(status: 200, headers: ["Content-Type": "application/json"],
                                            body: Array(json.utf8)))
                } catch {
                    reply(Self.failure(GRPCStatus(.internal, error.message)))
                }
            case .failure(let status):
                reply(Self.failure(status))
            }
        }
        return true
    }

    /// `POST /v3/lease/keepalive`: the body is a stream of LeaseKeepAliveRequests (`{"ID":…}{"ID":…}`), each
    /// answered with a `{"result":…}` line, as grpc-gateway streams a bidirectional call; the stream ends with the
    /// body. A request that cannot be read ends it with grpc-gateway's stream error line.
    private func keepAlive(_ body: [UInt8]) -> PlainHTTPResponse {
        guard let input = MessageSchema.registry["etcdserverpb.LeaseKeepAliveRequest"],
            let output = MessageSchema.registry["etcdserverpb.LeaseKeepAliveResponse"]
        else { return Self.failure(GRPCStatus(.internal, "no LeaseKeepAlive schema")) }
        var out = ""
        var failure: String?
        do throws(ProtoJSON.Failure) {
            for document in try ProtoJSON.documents(in: body) {
                let bytes = try ProtoJSON.encode(json: document, as: input)
                guard let request = try? LeaseKeepAliveRequest(protobufBytes: bytes) else {
                    failure = "a LeaseKeepAliveRequest that cannot be read"
                    break
                }
                let response = store.leaseKeepAlive(request).protobufBytes()
                out += #"{"result":"# + (try ProtoJSON.json(of: response, as: output)) + "}\n"
            }
        } catch {
            failure = error.message
        }
        if let failure {
            // Before any answer the call fails as a whole (etcd: code 2, HTTP 500); later, as a stream error line.
            if out.isEmpty { return Self.failure(GRPCStatus(.unknown, failure)) }
            out += #"{"error":{"grpc_code":2,"http_code":500,"message":\#(ProtoJSON.quoted(failure)),"#
                + #""http_status":"Internal Server Error"}}"# + "\n"
        }
        return PlainHTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: Array(out.utf8))
    }

    /// An error as etcd's gateway (grpc-gateway v1) writes it: `{"error":…,"message":…,"code":…}` with the HTTP
    /// status its `HTTPStatusFromCode` gives.
    static func failure(_ status: GRPCStatus) -> PlainHTTPResponse {
        let message = ProtoJSON.quoted(status.message)
        let body = #"{"error":\#(message),"message":\#(message),"code":\#(status.code.rawValue)}"#
        return PlainHTTPResponse(status: httpStatus(status.code), headers: ["Content-Type": "application/json"],
                                 body: Array(body.utf8))
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
