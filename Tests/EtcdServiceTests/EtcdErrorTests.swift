@testable import EtcdService
import GRPCServer
import MVCC
import Testing

@Suite("etcd error table")
struct EtcdErrorTests {
    @Test(
        "every error has etcd's code and byte-exact message",
        arguments: [
            (EtcdError.emptyKey, GRPCStatus.Code.invalidArgument, "etcdserver: key is not provided"),
            (.keyNotFound, .invalidArgument, "etcdserver: key not found"),
            (.valueProvided, .invalidArgument, "etcdserver: value is provided"),
            (.leaseProvided, .invalidArgument, "etcdserver: lease is provided"),
            (.tooManyOps, .invalidArgument, "etcdserver: too many operations in txn request"),
            (.duplicateKey, .invalidArgument, "etcdserver: duplicate key given in txn request"),
            (.invalidSortOption, .invalidArgument, "etcdserver: invalid sort option"),
            (.requestTooLarge, .invalidArgument, "etcdserver: request is too large"),
            (.compacted, .outOfRange, "etcdserver: mvcc: required revision has been compacted"),
            (.futureRevision, .outOfRange, "etcdserver: mvcc: required revision is a future revision"),
            (.leaseNotFound, .notFound, "etcdserver: requested lease not found"),
            (.leaseExists, .failedPrecondition, "etcdserver: lease already exists"),
            (.tooLargeLeaseTTL, .outOfRange, "etcdserver: too large lease TTL"),
            (.authNotEnabled, .failedPrecondition, "etcdserver: authentication is not enabled"),
            (.noSpace, .resourceExhausted, "etcdserver: mvcc: database space exceeded"),
        ])
    func table(error: EtcdError, code: GRPCStatus.Code, message: String) {
        #expect(error.status == GRPCStatus(code, message))
    }

    @Test("store errors map to the matching etcd errors")
    func fromStore() {
        #expect(EtcdError(MVCCError.compacted) == .compacted)
        #expect(EtcdError(MVCCError.futureRevision) == .futureRevision)
        #expect(EtcdError(MVCCError.backend("io")).status.code == .unknown)
    }
}
