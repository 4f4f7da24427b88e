import MVCC
import Testing

@Suite("compaction (etcd-semantics §7)")
struct KVStoreCompactionTests {
    @Test("compacting at or below the compaction point, or above the current revision, fails")
    func bounds() throws {
        let store = try KVStore()
        try store.put("a", "1")
        try store.put("a", "2")
        try store.compact(at: 0)  // etcd starts at -1: compacting at 0 succeeds once
        #expect(throws: MVCCError.compacted) { try store.compact(at: 0) }
        #expect(throws: MVCCError.futureRevision) { try store.compact(at: 4) }
        try store.compact(at: 3)
        #expect(throws: MVCCError.compacted) { try store.compact(at: 3) }
        #expect(throws: MVCCError.compacted) { try store.compact(at: 2) }
        #expect(store.compactRevision == 3)
    }

    @Test("compaction frees superseded versions but keeps the newest one at or below the point")
    func frees() throws {
        let backend = InMemoryBackend()
        let store = try KVStore(backend: backend)
        try store.put("a", "1")  // 2
        try store.put("a", "2")  // 3
        try store.put("a", "3")  // 4
        try store.put("b", "1")  // 5
        try store.compact(at: 4)
        #expect(try backend.record(at: Revision(main: 2)) == nil)
        #expect(try backend.record(at: Revision(main: 3)) != nil, "prev_kv of the event at the compaction point")
        #expect(try backend.record(at: Revision(main: 4)) != nil)
        #expect(try store.value("a", at: 4) == "3")
        try store.put("b", "2")  // 6
        try store.compact(at: 5)
        #expect(try backend.record(at: Revision(main: 3)) == nil)
        #expect(try store.value("a") == "3")
        let kv = try store.range(KeyRange(key: .k("a"))).kvs[0]
        #expect(kv.version == 3 && kv.createRevision == 2, "versions and create revision survive compaction")
    }

    @Test("a read in parts keeps the records a compaction made meanwhile drops, until it ends")
    func pinnedReadKeepsRecords() throws {
        let backend = InMemoryBackend()
        let store = try KVStore(backend: backend)
        try store.put("a", "1")  // 2
        try store.put("b", "1")  // 3
        let plan = try store.plan(KeyRange(key: .k("a"), rangeEnd: .k("c")), options: RangeOptions())
        #expect(plan.revisions.map(\.main) == [2, 3])
        store.pinRead()
        try store.put("a", "2")  // 4
        try store.delete("b")  // 5
        try store.compact(at: 5)
        #expect(store.compactRevision == 5, "the compaction point moves at once")
        #expect(throws: MVCCError.compacted) { try store.value("a", at: 4) }
        #expect(store.compactionPending)
        // The read's records are still there: its answer is the one as of revision 3.
        let result = plan.result(try store.load(plan.revisions[...]))
        #expect(result.kvs.map { String(decoding: $0.value, as: UTF8.self) } == ["1", "1"] && result.count == 2)
        #expect(try store.unpinRead(), "the waiting compaction is handed over")
        #expect(!store.compactionPending)
        #expect(try backend.record(at: Revision(main: 2)) == nil, "superseded below the compaction point")
        #expect(try backend.record(at: Revision(main: 3)) != nil, "prev_kv of the delete at the compaction point")
        #expect(try store.value("a") == "2")
    }

    @Test("reads in parts that overlap: the compaction waits for the last one")
    func overlappingPinnedReads() throws {
        let backend = InMemoryBackend()
        let store = try KVStore(backend: backend)
        try store.put("a", "1")  // 2
        try store.put("a", "2")  // 3
        try store.put("a", "3")  // 4
        store.pinRead()
        store.pinRead()
        try store.compact(at: 4)
        #expect(try !store.unpinRead(), "one read still runs")
        #expect(try backend.record(at: Revision(main: 2)) != nil)
        #expect(try store.unpinRead())
        #expect(try backend.record(at: Revision(main: 2)) == nil)
    }

    @Test("a key deleted before the point disappears entirely, index and records")
    func deletedKeyGoes() throws {
        let backend = InMemoryBackend()
        let store = try KVStore(backend: backend)
        try store.put("a", "1")  // 2
        try store.delete("a")  // 3
        try store.put("b", "1")  // 4
        try store.compact(at: 4)
        #expect(store.indexedKeyCount == 1)
        #expect(try backend.records(mainRevisions: 1...4).map(\.revision.main) == [4])
    }

    @Test("a tombstone exactly at the compaction revision is kept until a later compaction (etcd #18089)")
    func tombstoneAtPointKept() throws {
        let backend = InMemoryBackend()
        let store = try KVStore(backend: backend)
        try store.put("a", "1")  // 2
        try store.delete("a")  // 3
        try store.put("b", "1")  // 4
        try store.compact(at: 3)
        let kept = try backend.records(mainRevisions: 3...3)
        #expect(kept.count == 1 && kept[0].isTombstone, "a watch from revision 3 must still see the DELETE")
        #expect(try store.value("a", at: 3) == nil)
        #expect(try backend.record(at: Revision(main: 2)) != nil, "the deleted value stays as the DELETE's prev_kv")
        try store.compact(at: 4)
        #expect(try backend.records(mainRevisions: 3...3).isEmpty)
        #expect(store.indexedKeyCount == 1)
    }

    @Test("a key recreated after compaction keeps working")
    func recreateAfterCompaction() throws {
        let store = try KVStore()
        try store.put("a", "1")  // 2
        try store.delete("a")  // 3
        try store.compact(at: 3)
        try store.put("a", "2")  // 4
        let kv = try store.range(KeyRange(key: .k("a"))).kvs[0]
        #expect(kv.version == 1 && kv.createRevision == 4)
    }
}
