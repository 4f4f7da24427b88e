import EtcdProto
public import GRPCServer

/// `etcdserverpb.Cluster`: a cluster of exactly one member. Listing works; changing membership answers with the
/// errors etcd gives when a change cannot be made.
public enum ClusterService {
    public static let serviceName = "etcdserverpb.Cluster"

    public static func register(into router: inout GRPCRouter, store: EtcdStore, member: MemberInfo) {
        let identity = store.identity
        let members = [
            Member(id: identity.memberID, name: member.name, peerURLs: member.peerURLs, clientURLs: member.clientURLs)
        ]
        // etcd leaves header.revision 0 on Cluster responses.
        let header = ResponseHeader(clusterID: identity.clusterID, memberID: identity.memberID, revision: 0,
            raftTerm: identity.raftTerm)
        router.registerUnary(service: serviceName, method: "MemberList") { bytes, _, responder in
            responder.respond(serve(bytes, as: MemberListRequest.self) { (_) throws(EtcdError) in
                MemberListResponse(header: header, members: members)
            })
        }
        router.registerUnary(service: serviceName, method: "MemberAdd") { bytes, _, responder in
            // A single embedded member cannot be joined by another.
            responder.respond(serve(bytes, as: MemberAddRequest.self) { (_) throws(EtcdError) -> MemberListResponse in
                throw .unhealthyCluster
            })
        }
        router.registerUnary(service: serviceName, method: "MemberRemove") { bytes, _, responder in
            responder.respond(serve(bytes, as: MemberRemoveRequest.self) { (r) throws(EtcdError) -> MemberListResponse in
                throw r.id == identity.memberID ? .notEnoughStartedMembers : .memberNotFound
            })
        }
        router.registerUnary(service: serviceName, method: "MemberUpdate") { bytes, _, responder in
            responder.respond(serve(bytes, as: MemberUpdateRequest.self) { (r) throws(EtcdError) -> MemberListResponse in
                throw r.id == identity.memberID ? .notCapable : .memberNotFound
            })
        }
        router.registerUnary(service: serviceName, method: "MemberPromote") { bytes, _, responder in
            responder.respond(serve(bytes, as: MemberPromoteRequest.self) { (r) throws(EtcdError) -> MemberListResponse in
                throw r.id == identity.memberID ? .memberNotLearner : .memberNotFound
            })
        }
    }
}
