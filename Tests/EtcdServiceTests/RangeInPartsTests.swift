import Dispatch
import EtcdProto
@testable import EtcdService
import Foundation
import MVCC
import NIOConcurrencyHelpers
import Persistence
import Testing

/// Reads of more records than ``EtcdStore/rangeRecordsPerPart`` load them in parts, letting writers in between: the
/// answers must still be one snapshot, and a compaction meanwhile must not take records from under them.
@Suite("range reads in parts", .serialized)
struct RangeInPartsTests {
    /// Keys written and read: three parts and a half.
    static let keys = 3_500

    private static func key(_ index: Int) -> [UInt8] { Array(String(format: "k%05d", index).utf8) }

    /// A store on SQLite in a new directory, the directory, and the backend.
    private func sqliteStore() throws -> (store: EtcdStore, directory: String, backend: SQLiteBackend) {
        let directory = NSTemporaryDirectory() + "vigil-range-parts-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let backend = try SQLiteBackend(directory: directory)
        return (try EtcdStore(identity: ClusterIdentity(clusterID: 1, memberID: 2), backend: backend), directory, backend)
    }

    /// Puts every key to `prefix` + its index, 125 keys per transaction (etcd's limit is 128 operations) in key
    /// order, waiting for each.
    private func writeAll(_ store: EtcdStore, prefix: String) {
        for start in stride(from: 0, to: Self.keys, by: 125) {
            let ops = (start..<min(start + 125, Self.keys)).map {
                RequestOp.put(PutRequest(key: Self.key($0), value: Array("\(prefix)\($0)".utf8)))
            }
            let done = DispatchSemaphore(value: 0)
            store.txn(TxnRequest(success: ops)) { result in
                if case .failure(let error) = result { Issue.record("txn failed: \(error)") }
                done.signal()
            }
            #expect(done.wait(timeout: .now() + 60) == .success)
        }
    }

    private func everything() -> RangeRequest {
        var request = RangeRequest()
        request.key = Self.key(0)
        request.rangeEnd = Array("l".utf8)
        return request
    }

    @Test("a read of many keys while they are overwritten and compacted: one snapshot, nothing missing")
    func snapshotUnderWritesAndCompaction() throws {
        let store = try sqliteStore().store
        defer { store.close() }
        writeAll(store, prefix: "a")
        let writer = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            // Overwrites in key order, 125 keys per revision, then compacts away the first values.
            self.writeAll(store, prefix: "b")
            let done = DispatchSemaphore(value: 0)
            store.compact(CompactionRequest(revision: store.currentRevision, physical: true)) { _ in done.signal() }
            _ = done.wait(timeout: .now() + 60)
            writer.signal()
        }
        var reads = 0
        var finished = false
        while !finished || reads < 3 {
            finished = finished || writer.wait(timeout: .now()) == .success
            let response = try store.range(everything())
            reads += 1
            let revision = response.header?.revision ?? 0
            #expect(response.count == Int64(Self.keys) && response.kvs.count == Self.keys)
            // A snapshot: the overwritten keys are a prefix (they went in key order), and no record is newer than
            // the answer's revision.
            let overwritten = response.kvs.prefix { $0.value.first == UInt8(ascii: "b") }.count
            let values = response.kvs.map { String(decoding: $0.value, as: UTF8.self) }
            let expected = (0..<Self.keys).map { $0 < overwritten ? "b\($0)" : "a\($0)" }
            #expect(values == expected, "read \(reads) at revision \(revision)")
            #expect(response.kvs.allSatisfy { $0.modRevision <= revision })
            if finished { #expect(overwritten == Self.keys, "after the writer, every key has its new value") }
        }
    }

    @Test("a physical compaction during a read in parts answers once the read ended and the dropped rows are gone")
    func physicalCompactionWaitsForPinnedRead() throws {
        let (store, directory, backend) = try sqliteStore()
        writeAll(store, prefix: "a")
        writeAll(store, prefix: "b")
        let first = Revision(main: 2)  // key 0's first value, superseded by the second round
        store.withLockedStore { $0.pinRead() }
        let answered = NIOLockedValueBox(false)
        let done = DispatchSemaphore(value: 0)
        store.compact(CompactionRequest(revision: store.currentRevision, physical: true)) { result in
            if case .failure(let error) = result { Issue.record("compaction failed: \(error)") }
            answered.withLockedValue { $0 = true }
            done.signal()
        }
        // Reads below the new point fail at once; the rows stay while the read is pinned.
        var old = everything()
        old.revision = 2
        #expect(throws: EtcdError.compacted) { try store.range(old) }
        #expect(done.wait(timeout: .now() + 0.3) == .timedOut, "no answer while the read is pinned")
        #expect(try backend.record(at: first) != nil, "the pinned read may still need it")
        try store.endPinnedRead()
        #expect(done.wait(timeout: .now() + 60) == .success)
        #expect(answered.withLockedValue { $0 })
        #expect(try store.range(everything()).kvs.count == Self.keys)
        store.close()
        // The database itself: the superseded first round is gone, the second is there.
        var kept = Set<Revision>()
        _ = try SQLiteBackend(directory: directory).load { kept.insert($0.revision) }
        #expect(!kept.contains(first), "deleted once the read ended")
        // Every key's second value, and the first values of the last transaction's 125 keys: their second values
        // are at the compaction revision itself, whose events keep their prev_kv.
        #expect(kept.count == Self.keys + 125)
    }

    @Test("sorted by value with a limit, and with revision filters, over several parts: the answers of one read")
    func sortAndFilterAcrossParts() throws {
        let store = try sqliteStore().store
        defer { store.close() }
        writeAll(store, prefix: "a")
        var sorted = everything()
        sorted.sortTarget = .value
        sorted.sortOrder = .descend
        sorted.limit = 5
        let top = try store.range(sorted)
        // "a999" > "a998" > … > "a3499" … as strings: the five greatest values.
        let expected = (0..<Self.keys).map { "a\($0)" }.sorted(by: >).prefix(5)
        #expect(top.kvs.map { String(decoding: $0.value, as: UTF8.self) } == Array(expected))
        #expect(top.more && top.count == Int64(Self.keys))

        var filtered = everything()
        filtered.minModRevision = 3  // the second transaction (revision 3) and later: keys 125 and up
        let later = try store.range(filtered)
        #expect(later.kvs.count == Self.keys - 125 && later.count == Int64(Self.keys))
        #expect(later.kvs.first?.key == Self.key(125))
    }
}
