import MVCC
import Testing

@Suite("revisions and generations (etcd-semantics §1)")
struct KVStoreRevisionTests {
    @Test("a fresh store is at revision 1 and the first write gets revision 2")
    func freshStore() throws {
        let store = try KVStore()
        #expect(store.currentRevision == 1)
        #expect(try store.put("a", "1") == 2)
        #expect(store.currentRevision == 2)
    }

    @Test("every Put creates a revision, even with the same value")
    func everyPutIsARevision() throws {
        let store = try KVStore()
        try store.put("a", "1")
        try store.put("a", "1")
        let kv = try store.range(KeyRange(key: .k("a"))).kvs[0]
        #expect(kv.createRevision == 2 && kv.modRevision == 3 && kv.version == 2)
        #expect(store.currentRevision == 3)
    }

    @Test("a delete resets the key: recreating starts a new generation at version 1")
    func deleteResetsGeneration() throws {
        let store = try KVStore()
        try store.put("a", "1")  // 2
        try store.put("a", "2")  // 3
        #expect(try store.delete("a").revision == 4)
        #expect(try store.value("a") == nil)
        try store.put("a", "3")  // 5
        let kv = try store.range(KeyRange(key: .k("a"))).kvs[0]
        #expect(kv.createRevision == 5 && kv.modRevision == 5 && kv.version == 1)
        // History is still readable in each generation.
        #expect(try store.value("a", at: 2) == "1")
        #expect(try store.value("a", at: 3) == "2")
        #expect(try store.value("a", at: 4) == nil)
        let old = try store.range(KeyRange(key: .k("a")), options: { var o = RangeOptions(); o.revision = 3; return o }()).kvs[0]
        #expect(old.createRevision == 2 && old.version == 2)
    }

    @Test("a delete of nothing consumes no revision")
    func deleteNothing() throws {
        let store = try KVStore()
        try store.put("a", "1")
        let outcome = try store.delete("b")
        #expect(outcome.revision == 2 && outcome.events.isEmpty)
        #expect(store.currentRevision == 2)
    }

    @Test("changes of one write share one revision, with sub-revisions in call order")
    func oneRevisionPerWrite() throws {
        let store = try KVStore()
        try store.put("b", "old")
        let txn = store.beginWrite()
        try txn.put(key: .k("c"), value: .k("1"), lease: 0)
        try txn.put(key: .k("a"), value: .k("2"), lease: 0)
        try txn.deleteRange(KeyRange(key: .k("b")))
        let outcome = try txn.commit()
        #expect(outcome.revision == 3)
        #expect(outcome.events.map(\.kind) == [.put, .put, .delete])
        #expect(outcome.events.map { String(decoding: $0.kv.key, as: UTF8.self) } == ["c", "a", "b"])
        #expect(outcome.events.allSatisfy { $0.kv.modRevision == 3 })
        #expect(outcome.events[2].kv == KeyValue(key: .k("b"), modRevision: 3), "a DELETE carries only key and revision")
        #expect(outcome.events[2].prevKV?.value == .k("old"))
    }

    @Test("a multi-key delete emits DELETEs in ascending key order")
    func rangeDeleteOrder() throws {
        let store = try KVStore()
        for key in ["c", "a", "b", "d"] { try store.put(key, "v") }
        let outcome = try store.delete("a", end: "d")
        #expect(outcome.events.map { String(decoding: $0.kv.key, as: UTF8.self) } == ["a", "b", "c"])
        #expect(try store.keys() == ["d"])
    }

    @Test("reads inside a write see its own changes; an empty write consumes no revision")
    func readYourWrites() throws {
        let store = try KVStore()
        try store.put("a", "1")
        let txn = store.beginWrite()
        #expect(txn.readRevision == 2)
        try txn.put(key: .k("a"), value: .k("2"), lease: 0)
        #expect(txn.readRevision == 3)
        #expect(try txn.range(KeyRange(key: .k("a"))).kvs[0].value == .k("2"))
        // Later changes of the same write find earlier ones (by sub-revision) as the previous versions.
        try txn.put(key: .k("b"), value: .k("1"), lease: 0)
        #expect(try txn.put(key: .k("a"), value: .k("3"), lease: 0)?.value == .k("2"))
        #expect(try txn.range(KeyRange(key: .k("a"), rangeEnd: .k("c"))).kvs.map(\.value) == [.k("3"), .k("1")])
        #expect(try txn.deleteRange(KeyRange(key: .k("b"))).map(\.value) == [.k("1")])
        #expect(try txn.range(KeyRange(key: .k("a"), rangeEnd: .k("c"))).kvs.map(\.value) == [.k("3")])
        _ = try txn.commit()
        #expect(try store.range(KeyRange(key: .k("a"))).kvs[0].value == .k("3"))
        let empty = store.beginWrite()
        #expect(try empty.commit().revision == 3)
    }

    @Test("a failed commit leaves the store exactly as before")
    func rollback() throws {
        let backend = FailingBackend()
        let store = try KVStore(backend: backend)
        try store.put("a", "1")
        try store.put("b", "1")
        backend.failNextCommit = true
        let txn = store.beginWrite()
        try txn.put(key: .k("a"), value: .k("2"), lease: 0)
        try txn.put(key: .k("new"), value: .k("x"), lease: 0)
        try txn.deleteRange(KeyRange(key: .k("b")))
        #expect(throws: MVCCError.backend("disk full")) { try txn.commit() }
        #expect(store.currentRevision == 3)
        #expect(try store.keys() == ["a", "b"])
        #expect(try store.value("a") == "1")
        #expect(store.indexedKeyCount == 2)
        #expect(try store.put("a", "3") == 4, "the revision was not consumed")
    }

    @Test("keys compare as raw bytes, not text")
    func rawByteOrder() throws {
        let store = try KVStore()
        let keys: [[UInt8]] = [[0xFF], [0x7F], [0x00, 0x01], [0xC3, 0xA9], [0x61], [0x61, 0x00]]
        let txn = store.beginWrite()
        for key in keys { try txn.put(key: key, value: [], lease: 0) }
        _ = try txn.commit()
        let all = try store.range(KeyRange(key: [0], rangeEnd: [0])).kvs.map(\.key)
        #expect(all == [[0x00, 0x01], [0x61], [0x61, 0x00], [0x7F], [0xC3, 0xA9], [0xFF]])
    }

    @Test("the store rebuilds its index from the backend's records")
    func reload() throws {
        let backend = InMemoryBackend()
        do {
            let store = try KVStore(backend: backend)
            try store.put("a", "1")
            try store.put("a", "2")
            try store.delete("a")
            try store.put("a", "3")
            try store.put("b", "1")
        }
        let reopened = try KVStore(backend: backend)
        #expect(reopened.currentRevision == 6)
        #expect(try reopened.value("a") == "3")
        #expect(try reopened.value("a", at: 3) == "2")
        #expect(try reopened.value("a", at: 4) == nil)
        let kv = try reopened.range(KeyRange(key: .k("a"))).kvs[0]
        #expect(kv.version == 1 && kv.createRevision == 5)
    }
}
