import EtcdProto
@testable import EtcdService
import Foundation
import NIOConcurrencyHelpers
import Persistence
import Testing

@Suite("group commit", .serialized)
struct GroupCommitTests {
    private func store() throws -> EtcdStore {
        let directory = NSTemporaryDirectory() + "vigil-group-commit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let backend = try SQLiteBackend(directory: directory)
        return try EtcdStore(
            identity: ClusterIdentity(clusterID: backend.clusterID, memberID: backend.memberID), backend: backend,
            leaseJournal: backend)
    }

    /// Puts `count` keys one after another, each waiting for its acknowledgement; fails if one never comes.
    private func sequentialPuts(_ store: EtcdStore, count: Int, prefix: String) -> Int {
        var acknowledged = 0
        for i in 0..<count {
            let done = DispatchSemaphore(value: 0)
            store.put(PutRequest(key: Array("\(prefix)\(i)".utf8), value: [1])) { result in
                if case .success = result { done.signal() }
            }
            guard done.wait(timeout: .now() + 10) == .success else { return acknowledged }
            acknowledged += 1
        }
        return acknowledged
    }

    @Test("a lone writer is acknowledged every time, across write-ahead-log checkpoints")
    func loneWriter() throws {
        let store = try store()
        #expect(sequentialPuts(store, count: 450, prefix: "lone/") == 450)
        #expect(store.currentRevision == 451)
        store.close()
    }

    @Test("concurrent writers are all acknowledged, in revision order, and reads see every acknowledged write")
    func concurrentWriters() throws {
        let store = try store()
        let group = DispatchGroup()
        let acknowledged = NIOLockedValueBox(0)
        for writer in 0..<8 {
            group.enter()
            DispatchQueue.global().async {
                let count = sequentialPuts(store, count: 100, prefix: "w\(writer)/")
                acknowledged.withLockedValue { $0 += count }
                group.leave()
            }
        }
        #expect(group.wait(timeout: .now() + 60) == .success)
        #expect(acknowledged.withLockedValue { $0 } == 800)
        var request = RangeRequest()
        request.key = Array("w".utf8)
        request.rangeEnd = Array("x".utf8)
        request.countOnly = true
        #expect(try store.range(request).count == 800)
        store.close()
    }
}
