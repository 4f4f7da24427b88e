@testable import EtcdService
import EtcdProto
import Testing

@Suite("KV request validation (etcd-semantics §6.1)")
struct KVRequestValidationTests {
    private func put(_ key: String) -> RequestOp { .put(PutRequest(key: Array(key.utf8), value: [1])) }
    private func delete(_ key: String, _ end: String = "") -> RequestOp {
        .deleteRange(DeleteRangeRequest(key: Array(key.utf8), rangeEnd: Array(end.utf8)))
    }

    private func outcome(_ txn: TxnRequest) -> EtcdError? {
        do {
            try KVRequestValidation.check(txn)
            return nil
        } catch {
            return error
        }
    }

    @Test("more than 128 ops in a branch, or compares, is too many")
    func tooMany() {
        #expect(outcome(TxnRequest(success: (0..<129).map { put("k\($0)") })) == .tooManyOps)
        #expect(outcome(TxnRequest(compare: (0..<129).map { _ in Compare(key: [1]) })) == .tooManyOps)
        #expect(outcome(TxnRequest(success: (0..<128).map { put("k\($0)") })) == nil)
    }

    @Test("nested txns count against what the outer branch leaves")
    func nestedBudget() {
        let inner = TxnRequest(success: (0..<30).map { put("i\($0)") })
        let outer = TxnRequest(success: (0..<100).map { put("o\($0)") } + [.txn(inner)])
        #expect(outcome(outer) == .tooManyOps)
        let fits = TxnRequest(success: (0..<90).map { put("o\($0)") } + [.txn(inner)])
        #expect(outcome(fits) == nil)
    }

    @Test("duplicate Puts, and Puts under a delete of the same branch, are refused")
    func duplicates() {
        #expect(outcome(TxnRequest(success: [put("a"), put("a")])) == .duplicateKey)
        #expect(outcome(TxnRequest(success: [delete("a", "c"), put("b")])) == .duplicateKey)
        #expect(outcome(TxnRequest(success: [delete("a"), delete("a")])) == nil, "overlapping deletes are fine")
        #expect(outcome(TxnRequest(success: [put("a")], failure: [put("a")])) == nil, "different branches")
        #expect(outcome(TxnRequest(success: [delete("a", "\0"), put("b")])) == nil, "etcd: a from-key delete covers nothing here")
    }

    @Test("a key Put in both branches of a nested txn is fine; beside an outer Put it is not")
    func nestedDuplicates() {
        let nested = RequestOp.txn(TxnRequest(success: [put("q")], failure: [put("q")]))
        #expect(outcome(TxnRequest(success: [nested])) == nil)
        #expect(outcome(TxnRequest(success: [put("q"), nested])) == .duplicateKey)
        #expect(outcome(TxnRequest(success: [delete("p", "r"), nested])) == .duplicateKey)
    }

    @Test("empty keys and empty ops")
    func emptyThings() {
        #expect(outcome(TxnRequest(compare: [Compare(key: [])])) == .emptyKey)
        #expect(outcome(TxnRequest(success: [put("")])) == .emptyKey)
        #expect(outcome(TxnRequest(success: [.none])) == .keyNotFound)
    }
}
