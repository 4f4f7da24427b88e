import MVCC

/// Helpers shared by the store tests.
extension Array where Element == UInt8 {
    /// The UTF-8 bytes of a string literal, for readable keys.
    static func k(_ text: String) -> [UInt8] { Array(text.utf8) }
}

extension KVStore {
    /// Puts one key as its own write and returns the write's revision.
    @discardableResult
    func put(_ key: String, _ value: String, lease: Int64 = 0) throws -> Int64 {
        let txn = beginWrite()
        try txn.put(key: .k(key), value: .k(value), lease: lease)
        return try txn.commit().revision
    }

    /// Deletes a range as its own write and returns the outcome.
    @discardableResult
    func delete(_ key: String, end: String = "") throws -> KVWriteTxn.Outcome {
        let txn = beginWrite()
        try txn.deleteRange(KeyRange(key: .k(key), rangeEnd: .k(end)))
        return try txn.commit()
    }

    /// The value of one key at a revision (0: current), as text.
    func value(_ key: String, at revision: Int64 = 0) throws -> String? {
        var options = RangeOptions()
        options.revision = revision
        return try range(KeyRange(key: .k(key)), options: options).kvs.first.map { String(decoding: $0.value, as: UTF8.self) }
    }

    /// Every key in the store at a revision, as text.
    func keys(at revision: Int64 = 0) throws -> [String] {
        var options = RangeOptions()
        options.revision = revision
        return try range(KeyRange(key: [0], rangeEnd: [0]), options: options).kvs.map { String(decoding: $0.key, as: UTF8.self) }
    }
}

/// A backend that fails its next commit on demand, to test rollback.
final class FailingBackend: MVCCBackend {
    let inner = InMemoryBackend()
    var failNextCommit = false

    func load(_ visit: (RevisionRecord) -> Void) throws(MVCCError) -> BackendCounters { try inner.load(visit) }

    func commit(revision: Int64, records: [RevisionRecord]) throws(MVCCError) {
        if failNextCommit {
            failNextCommit = false
            throw .backend("disk full")
        }
        try inner.commit(revision: revision, records: records)
    }

    func record(at revision: Revision) throws(MVCCError) -> RevisionRecord? { try inner.record(at: revision) }

    func records(mainRevisions range: ClosedRange<Int64>) throws(MVCCError) -> [RevisionRecord] {
        try inner.records(mainRevisions: range)
    }

    func compact(at revision: Int64, dropping dropped: [Revision]) throws(MVCCError) {
        try inner.compact(at: revision, dropping: dropped)
    }

    var estimatedSize: Int { inner.estimatedSize }
}
