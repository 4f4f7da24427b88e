import Foundation
import MVCC
@testable import Persistence
import Testing

@Suite("SQLite backend")
struct SQLiteBackendTests {
    private func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "vigil-sqlite-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes `value` to `key` in a transaction of its own.
    private func put(_ store: KVStore, _ key: [UInt8], _ value: [UInt8]) throws {
        let txn = store.beginWrite()
        try txn.put(key: key, value: value, lease: 0)
        _ = try txn.commit()
    }

    /// 25,000 puts to keys [0], [1], [2] in turn, each value the put's number: a long history to compact.
    private func writeHistory(_ store: KVStore) throws {
        for i in 0..<25_000 { try put(store, [UInt8(i % 3)], Array("\(i)".utf8)) }
    }

    @Test("staged commits are readable at once and survive reopening once flushed")
    func stageFlushReload() throws {
        let directory = temporaryDirectory()
        let identity: (UInt64, UInt64)
        do {
            let backend = try SQLiteBackend(directory: directory)
            identity = (backend.clusterID, backend.memberID)
            let store = try KVStore(backend: backend)
            let txn = store.beginWrite()
            try txn.put(key: [1], value: [10], lease: 0)
            try txn.put(key: [2], value: [20], lease: 7)
            _ = try txn.commit()
            let delete = store.beginWrite()
            try delete.deleteRange(KeyRange(key: [1]))
            _ = try delete.commit()
            // Readable before the flush.
            #expect(try store.range(KeyRange(key: [2])).kvs.first?.value == [20])
            #expect(try backend.flush() == 3)
            #expect(try backend.flush() == nil, "nothing left to flush")
        }
        let reopened = try SQLiteBackend(directory: directory)
        #expect((reopened.clusterID, reopened.memberID) == identity, "IDs are stored with the data")
        let store = try KVStore(backend: reopened)
        #expect(store.currentRevision == 3)
        #expect(try store.range(KeyRange(key: [0], rangeEnd: [0])).kvs.map(\.key) == [[2]])
        #expect(try store.range(KeyRange(key: [2])).kvs.first?.lease == 7)
        var old = RangeOptions()
        old.revision = 2
        #expect(try store.range(KeyRange(key: [1]), options: old).kvs.first?.value == [10])
    }

    @Test("unflushed commits are lost on reopening, never half-applied")
    func unflushedLost() throws {
        let directory = temporaryDirectory()
        do {
            let backend = try SQLiteBackend(directory: directory)
            let store = try KVStore(backend: backend)
            let first = store.beginWrite()
            try first.put(key: [1], value: [1], lease: 0)
            _ = try first.commit()
            _ = try backend.flush()
            let second = store.beginWrite()
            try second.put(key: [2], value: [2], lease: 0)
            try second.put(key: [3], value: [3], lease: 0)
            _ = try second.commit()  // staged, never flushed
        }
        let store = try KVStore(backend: try SQLiteBackend(directory: directory))
        #expect(store.currentRevision == 2)
        #expect(try store.range(KeyRange(key: [0], rangeEnd: [0])).kvs.map(\.key) == [[1]])
    }

    @Test("history over flushed and unflushed revisions comes back whole, in order, each record once")
    func historyAcrossTheFlushPoint() throws {
        let backend = try SQLiteBackend(directory: temporaryDirectory())
        let store = try KVStore(backend: backend)
        for i in 0..<10 { try put(store, [UInt8(i % 4)], [UInt8(i)]) }  // revisions 2...11
        #expect(try backend.flush() == 11)
        for i in 10..<15 { try put(store, [UInt8(i % 4)], [UInt8(i)]) }  // 12...16, staged
        #expect(try backend.records(mainRevisions: 5...14).map(\.revision.main) == Array(5...14))
        #expect(try backend.records(mainRevisions: 5...14).map(\.kv.value) == (3...12).map { [UInt8($0)] })
        #expect(try backend.records(mainRevisions: 12...20).map(\.revision.main) == Array(12...16))
        #expect(try backend.records(mainRevisions: 1...11).map(\.revision.main) == Array(2...11))
    }

    @Test("a flush that fails (database full) keeps its writes staged; the next flush writes them")
    func failedFlushKeepsItsWork() throws {
        let directory = temporaryDirectory()
        do {
            let backend = try SQLiteBackend(directory: directory)
            let store = try KVStore(backend: backend)
            try put(store, [0], [0])
            #expect(try backend.flush() == 2)
            try backend.limitGrowth(true)
            let value = [UInt8](repeating: 7, count: 2_000)
            for key in 1...50 { try put(store, [UInt8(key)], value) }
            #expect(throws: MVCCError.self) { try backend.flush() }
            #expect(backend.hasStagedWork, "the failed flush's writes wait for the next")
            #expect(try store.range(KeyRange(key: [50])).kvs.first?.value == value, "and stay readable")
            try backend.limitGrowth(false)
            #expect(try backend.flush() == 52)
            #expect(!backend.hasStagedWork)
        }
        let store = try KVStore(backend: try SQLiteBackend(directory: directory))
        #expect(store.currentRevision == 52)
        #expect(try store.range(KeyRange(key: [0], rangeEnd: [0])).kvs.count == 51)
        #expect(try store.range(KeyRange(key: [50])).kvs.first?.value == [UInt8](repeating: 7, count: 2_000))
    }

    @Test("compaction deletes its rows over several flushes and is remembered")
    func compaction() throws {
        let directory = temporaryDirectory()
        do {
            let backend = try SQLiteBackend(directory: directory)
            let store = try KVStore(backend: backend)
            try writeHistory(store)
            _ = try backend.flush()
            try store.compact(at: 24_000)
            var flushes = 0
            repeat {
                _ = try backend.flush()
                flushes += 1
                // Each batch of deletes is checkpointed before the next, so the log holds one batch at most.
                #expect(backend.checkpointDue)
                backend.checkpointIfNeeded()
            } while backend.hasStagedWork
            #expect(flushes >= 2, "deletes are spread over bounded batches")
        }
        let store = try KVStore(backend: try SQLiteBackend(directory: directory))
        #expect(store.compactRevision == 24_000)
        #expect(try store.records(mainRevisions: 1...23_990).count <= 6, "only the versions compaction keeps remain")
        var options = RangeOptions()
        options.revision = 23_999
        #expect(throws: MVCCError.compacted) { try store.range(KeyRange(key: [0]), options: options) }
    }

    @Test("a stop in the middle of a compaction's deletes is finished after reopening")
    func compactionInterrupted() throws {
        let directory = temporaryDirectory()
        do {
            let backend = try SQLiteBackend(directory: directory)
            let store = try KVStore(backend: backend)
            // A key whose whole history lies below the compaction point (revisions 2 and 3) leaves the index.
            try put(store, [9], [9])
            let delete = store.beginWrite()
            try delete.deleteRange(KeyRange(key: [9]))
            _ = try delete.commit()
            try writeHistory(store)
            _ = try backend.flush()
            try store.compact(at: 24_000)
            _ = try backend.flush()  // one bounded batch of deletes, then the process stops
            #expect(backend.hasStagedWork, "deletes were left for later flushes")
        }
        let backend = try SQLiteBackend(directory: directory)
        let store = try KVStore(backend: backend)
        #expect(store.compactRevision == 24_000)
        #expect(store.indexedKeyCount == 3, "the key deleted below the compaction point is not indexed again")
        #expect(backend.hasStagedWork, "the rows left below the compaction point are staged for deletion")
        while backend.hasStagedWork { _ = try backend.flush() }
        #expect(try store.records(mainRevisions: 1...23_990).count <= 6, "only the versions compaction keeps remain")
        #expect(try store.range(KeyRange(key: [1])).kvs.first?.value == Array("24997".utf8))
        var options = RangeOptions()
        options.revision = 24_000
        #expect(try store.range(KeyRange(key: [0], rangeEnd: [0]), options: options).kvs.count == 3)
    }

    @Test("after compaction and reopening, create revisions and versions still come from the key's whole life")
    func compactedIdentityAfterReopening() throws {
        let directory = temporaryDirectory()
        do {
            let backend = try SQLiteBackend(directory: directory)
            let store = try KVStore(backend: backend)
            for value in 1...4 as ClosedRange<UInt8> { try put(store, [1], [value]) }  // created at 2, v4 at 5
            for value in 1...2 as ClosedRange<UInt8> { try put(store, [2], [value]) }  // created at 6, v2 at 7
            try store.compact(at: 7)
            while backend.hasStagedWork { _ = try backend.flush() }
        }
        let store = try KVStore(backend: try SQLiteBackend(directory: directory))
        let all = KeyRange(key: [0], rangeEnd: [0])
        var byCreate = RangeOptions()
        byCreate.minCreateRevision = 3
        #expect(try store.range(all, options: byCreate).kvs.map(\.key) == [[2]], "key [1] was created at 2")
        var byVersion = RangeOptions()
        byVersion.sortTarget = .version
        byVersion.sortOrder = .descend
        #expect(try store.range(all, options: byVersion).kvs.map(\.key) == [[1], [2]], "version 4 before version 2")
        var oldCreate = RangeOptions()
        oldCreate.maxCreateRevision = 2
        #expect(try store.range(all, options: oldCreate).kvs.map(\.key) == [[1]])
    }

    @Test("a transaction opened ahead is used by the next flush, gives way to a checkpoint, and loses nothing at a stop")
    func preparedFlush() throws {
        let directory = temporaryDirectory()
        let fileSize = { (try? FileManager.default.attributesOfItem(atPath: directory + "/vigil.db")[.size] as? Int) ?? 0 }
        let emptySize: Int
        do {
            let backend = try SQLiteBackend(directory: directory)
            let store = try KVStore(backend: backend)
            emptySize = fileSize()
            // A prepared flush with nothing staged stays prepared; flushes use it, each ahead of the next.
            backend.prepareNextFlush()
            #expect(try backend.flush() == nil)
            for i in 0..<120 {
                try put(store, Array("k\(i)".utf8), [UInt8(i)])
                #expect(try backend.flush() == Int64(i + 2))
                backend.prepareNextFlush()
                backend.prepareNextFlush()  // twice: the second finds it open
            }
            // The other connection reads what the flushes wrote while a transaction stays open.
            let stored = try backend.records(mainRevisions: 2...121)
            #expect(stored.map(\.kv.value) == (0..<120).map { [UInt8($0)] })
            // 120 flushes: a checkpoint is due, and must not fail for the open transaction.
            #expect(backend.checkpointDue)
            backend.checkpointIfNeeded()
            #expect(fileSize() > emptySize, "the checkpoint copied the log into the database")
            try put(store, [1], [1])
            #expect(try backend.flush() == 122)
            backend.prepareNextFlush()  // left open at the stop
        }
        let store = try KVStore(backend: try SQLiteBackend(directory: directory))
        #expect(store.currentRevision == 122)
        #expect(try store.range(KeyRange(key: [0], rangeEnd: [0])).kvs.count == 121)
    }

    @Test("defragmenting gives compacted space back to the disk and keeps every record, in a prepared transaction too")
    func defragment() throws {
        let directory = temporaryDirectory()
        let value = [UInt8](repeating: 0x5A, count: 2_000)
        do {
            let backend = try SQLiteBackend(directory: directory)
            let store = try KVStore(backend: backend)
            // 2,000 puts of 2 kB over 20 keys, compacted down to the last 20: ~4 MB written, ~40 kB kept.
            for i in 0..<2_000 { try put(store, Array("k\(i % 20)".utf8), value + Array("\(i)".utf8)) }
            _ = try backend.flush()
            try store.compact(at: store.currentRevision)
            repeat { _ = try backend.flush() } while backend.hasStagedWork
            backend.checkpointIfNeeded()
            let before = try #require(backend.storageSize)
            #expect(before.total > 3_000_000 && before.inUse < 500_000, "compaction freed pages but kept the file")
            backend.prepareNextFlush()  // an open transaction gives way
            try backend.defragment()
            let after = try #require(backend.storageSize)
            #expect(after.total < 500_000, "the files shrank to what is in use (\(after.total) bytes)")
            #expect(after.inUse <= before.inUse)
            try put(store, Array("after".utf8), [1])
            #expect(try backend.flush() == 2_002)
        }
        let store = try KVStore(backend: try SQLiteBackend(directory: directory))
        #expect(store.currentRevision == 2_002 && store.compactRevision == 2_001)
        let kvs = try store.range(KeyRange(key: [0], rangeEnd: [0])).kvs
        #expect(kvs.count == 21)
        #expect(kvs.first { $0.key == Array("k7".utf8) }?.value == value + Array("1987".utf8))
        #expect(kvs.first { $0.key == Array("k7".utf8) }?.version == 100)
    }

    @Test("a snapshot holds every flushed write and nothing staged, opens as a Vigil database, and is a new file")
    func snapshot() throws {
        let directory = temporaryDirectory()
        let restored = temporaryDirectory()
        let leftover: String
        let identity: (UInt64, UInt64)
        do {
            let backend = try SQLiteBackend(directory: directory)
            let store = try KVStore(backend: backend)
            identity = (backend.clusterID, backend.memberID)
            for i in 0..<200 { try put(store, Array("k\(i)".utf8), [UInt8](repeating: UInt8(i), count: 500)) }
            _ = try backend.flush()
            backend.stageLeaseGrant(id: 5, ttl: 60)
            _ = try backend.flush()
            try put(store, Array("staged".utf8), [1])  // not flushed: not durable, not in the snapshot
            backend.prepareNextFlush()  // an open write transaction does not stop the copy
            let first = try backend.writeSnapshot()
            leftover = try backend.writeSnapshot()
            #expect(first != leftover)
            #expect(try backend.flush() == 202, "flushing goes on after the copies")
            try FileManager.default.moveItem(atPath: first, toPath: restored + "/vigil.db")
            backend.endPreparedFlush()
        }
        let copy = try SQLiteBackend(directory: restored)
        #expect((copy.clusterID, copy.memberID) == identity)
        #expect(copy.storedLeases.map(\.id) == [5])
        let copied = try KVStore(backend: copy)
        #expect(copied.currentRevision == 201)
        let kvs = try copied.range(KeyRange(key: [0], rangeEnd: [0])).kvs
        #expect(kvs.count == 200 && !kvs.contains { $0.key == Array("staged".utf8) })
        #expect(kvs.first { $0.key == Array("k77".utf8) }?.value == [UInt8](repeating: 77, count: 500))

        // The next start removes a snapshot file that a stopped process left behind.
        #expect(FileManager.default.fileExists(atPath: leftover))
        let reopened = try SQLiteBackend(directory: directory)
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(try KVStore(backend: reopened).currentRevision == 202)
    }

    @Test("leases are journaled")
    func leases() throws {
        let directory = temporaryDirectory()
        do {
            let backend = try SQLiteBackend(directory: directory)
            backend.stageLeaseGrant(id: 5, ttl: 60)
            backend.stageLeaseGrant(id: 6, ttl: 30)
            backend.stageLeaseRevoke(id: 5)
            _ = try backend.flush()
        }
        let reopened = try SQLiteBackend(directory: directory)
        #expect(reopened.storedLeases.map(\.id) == [6] && reopened.storedLeases.map(\.ttl) == [30])
    }

    @Test("a database that is not Vigil's is refused, not overwritten")
    func foreign() throws {
        let directory = temporaryDirectory()
        _ = FileManager.default.createFile(atPath: directory + "/vigil.db", contents: Array(repeating: 0x41, count: 4096).withUnsafeBytes { Data($0) })
        #expect(throws: SQLiteError.self) { try SQLiteBackend(directory: directory) }
    }

    @Test("a data directory can be locked by one process only")
    func lock() throws {
        let directory = temporaryDirectory()
        let first = try DataDirectory(path: directory)
        _ = first
        // flock locks belong to the open file description: a second open in this process conflicts too.
        #expect(throws: DataDirectory.Failure.self) { try DataDirectory(path: directory) }
    }
}
