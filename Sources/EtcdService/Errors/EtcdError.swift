public import GRPCServer
import MVCC

/// Every error the etcd services answer with, and — in ``status`` — the one table mapping each to etcd's gRPC code
/// and byte-exact message (etcd's `api/v3rpc/rpctypes/error.go`). Clients match on these strings.
public enum EtcdError: Error, Hashable, Sendable {
    case emptyKey
    case keyNotFound
    case valueProvided
    case leaseProvided
    case tooManyOps
    case duplicateKey
    case invalidSortOption
    case requestTooLarge
    case compacted
    case futureRevision
    case leaseNotFound
    case leaseExists
    case tooLargeLeaseTTL
    case authNotEnabled
    case notCapable
    case memberNotFound
    case notEnoughStartedMembers
    case memberNotLearner
    case unhealthyCluster
    case badLeaderTransferee
    case noSpace
    /// Something failed inside the server; etcd answers UNKNOWN with the error text.
    case `internal`(String)

    /// The gRPC status clients see.
    public var status: GRPCStatus {
        switch self {
        case .emptyKey: GRPCStatus(.invalidArgument, "etcdserver: key is not provided")
        case .keyNotFound: GRPCStatus(.invalidArgument, "etcdserver: key not found")
        case .valueProvided: GRPCStatus(.invalidArgument, "etcdserver: value is provided")
        case .leaseProvided: GRPCStatus(.invalidArgument, "etcdserver: lease is provided")
        case .tooManyOps: GRPCStatus(.invalidArgument, "etcdserver: too many operations in txn request")
        case .duplicateKey: GRPCStatus(.invalidArgument, "etcdserver: duplicate key given in txn request")
        case .invalidSortOption: GRPCStatus(.invalidArgument, "etcdserver: invalid sort option")
        case .requestTooLarge: GRPCStatus(.invalidArgument, "etcdserver: request is too large")
        case .compacted: GRPCStatus(.outOfRange, "etcdserver: mvcc: required revision has been compacted")
        case .futureRevision: GRPCStatus(.outOfRange, "etcdserver: mvcc: required revision is a future revision")
        case .leaseNotFound: GRPCStatus(.notFound, "etcdserver: requested lease not found")
        case .leaseExists: GRPCStatus(.failedPrecondition, "etcdserver: lease already exists")
        case .tooLargeLeaseTTL: GRPCStatus(.outOfRange, "etcdserver: too large lease TTL")
        case .authNotEnabled: GRPCStatus(.failedPrecondition, "etcdserver: authentication is not enabled")
        case .notCapable: GRPCStatus(.failedPrecondition, "etcdserver: not capable")
        case .memberNotFound: GRPCStatus(.notFound, "etcdserver: member not found")
        case .notEnoughStartedMembers:
            GRPCStatus(.failedPrecondition, "etcdserver: re-configuration failed due to not enough started members")
        case .memberNotLearner: GRPCStatus(.failedPrecondition, "etcdserver: can only promote a learner member")
        case .unhealthyCluster: GRPCStatus(.unavailable, "etcdserver: unhealthy cluster")
        case .badLeaderTransferee: GRPCStatus(.failedPrecondition, "etcdserver: bad leader transferee")
        case .noSpace: GRPCStatus(.resourceExhausted, "etcdserver: mvcc: database space exceeded")
        case .internal(let text): GRPCStatus(.unknown, text)
        }
    }

    /// The store's errors, as the services report them.
    init(_ error: MVCCError) {
        switch error {
        case .compacted: self = .compacted
        case .futureRevision: self = .futureRevision
        case .backend(let text): self = .internal(text)
        case .backendFull: self = .noSpace
        }
    }
}
