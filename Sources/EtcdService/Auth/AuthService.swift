import EtcdProto
public import GRPCServer

/// `etcdserverpb.Auth` while authentication is off (users and roles are not implemented yet): clients configured
/// with credentials learn that auth is disabled, exactly as from an etcd without auth, and carry on.
public enum AuthService {
    public static let serviceName = "etcdserverpb.Auth"

    public static func register(into router: inout GRPCRouter, store: EtcdStore) {
        router.registerUnary(service: serviceName, method: "Authenticate") { bytes, _, responder in
            responder.respond(serve(bytes, as: AuthenticateRequest.self) { (_) throws(EtcdError) -> AuthStatusResponse in
                throw .authNotEnabled
            })
        }
        router.registerUnary(service: serviceName, method: "AuthStatus") { bytes, _, responder in
            responder.respond(serve(bytes, as: AuthStatusRequest.self) { (_) throws(EtcdError) in
                AuthStatusResponse(header: store.identity.header(revision: store.currentRevision), enabled: false,
                    authRevision: 0)
            })
        }
        let unsupported = [
            "AuthEnable", "AuthDisable", "UserAdd", "UserGet", "UserList", "UserDelete", "UserChangePassword",
            "UserGrantRole", "UserRevokeRole", "RoleAdd", "RoleGet", "RoleList", "RoleDelete", "RoleGrantPermission",
            "RoleRevokePermission",
        ]
        for method in unsupported {
            router.registerUnary(service: serviceName, method: method) { _, _, responder in
                responder.respond(.failure(GRPCStatus(.unimplemented, "vigil: users, roles and auth are not supported yet")))
            }
        }
    }
}
