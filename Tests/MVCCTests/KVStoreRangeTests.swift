import MVCC
import Testing

@Suite("range reads (etcd-semantics §3)")
struct KVStoreRangeTests {
    private func store() throws -> KVStore {
        let store = try KVStore()
        try store.put("a", "3")  // 2
        try store.put("b", "1")  // 3
        try store.put("c", "2")  // 4
        try store.put("a", "4")  // 5  a: create 2, mod 5, version 2
        try store.put("d", "0")  // 6
        return store
    }

    private func keys(_ result: RangeResult) -> [String] { result.kvs.map { String(decoding: $0.key, as: UTF8.self) } }

    @Test(
        "key selection: single key, interval, from-key, all keys, empty interval",
        arguments: [
            ("b", "", ["b"]), ("a", "c", ["a", "b"]), ("b", "\0", ["b", "c", "d"]), ("\0", "\0", ["a", "b", "c", "d"]),
            ("c", "a", []), ("c", "c", []), ("zz", "", []),
        ])
    func selection(key: String, end: String, expected: [String]) throws {
        #expect(keys(try store().range(KeyRange(key: .k(key), rangeEnd: .k(end)))) == expected)
    }

    @Test("limit cuts the result and sets more; count is the whole range")
    func limitAndCount() throws {
        var options = RangeOptions()
        options.limit = 2
        let result = try store().range(KeyRange(key: [0], rangeEnd: [0]), options: options)
        #expect(keys(result) == ["a", "b"] && result.more && result.count == 4)
        options.limit = 4
        #expect(try store().range(KeyRange(key: [0], rangeEnd: [0]), options: options).more == false)
    }

    @Test("count_only returns the count and no kvs")
    func countOnly() throws {
        var options = RangeOptions()
        options.countOnly = true
        let result = try store().range(KeyRange(key: [0], rangeEnd: [0]), options: options)
        #expect(result.kvs.isEmpty && result.count == 4 && !result.more)
    }

    @Test(
        "sorting by every target and order",
        arguments: [
            (RangeOptions.SortTarget.key, RangeOptions.SortOrder.descend, ["d", "c", "b", "a"]),
            (.value, .ascend, ["d", "b", "c", "a"]), (.value, .descend, ["a", "c", "b", "d"]),
            (.mod, .descend, ["d", "a", "c", "b"]), (.create, .ascend, ["a", "b", "c", "d"]),
            (.version, .descend, ["a", "b", "c", "d"]), (.value, .none, ["d", "b", "c", "a"]),
        ])
    func sorting(target: RangeOptions.SortTarget, order: RangeOptions.SortOrder, expected: [String]) throws {
        var options = RangeOptions()
        options.sortTarget = target
        options.sortOrder = order
        #expect(keys(try store().range(KeyRange(key: [0], rangeEnd: [0]), options: options)) == expected)
    }

    @Test("with order NONE and a limit, etcd takes limit+1 keys in key order before sorting by the target")
    func noneOrderLimitQuirk() throws {
        var options = RangeOptions()
        options.sortTarget = .value
        options.limit = 2
        // The first three keys by key (a=4, b=1, c=2) sorted by value: b, c, a; then cut to two.
        let result = try store().range(KeyRange(key: [0], rangeEnd: [0]), options: options)
        #expect(keys(result) == ["b", "c"] && result.more)
    }

    @Test("revision filters are inclusive and do not change count")
    func filters() throws {
        var options = RangeOptions()
        options.minModRevision = 4
        options.maxCreateRevision = 4
        let result = try store().range(KeyRange(key: [0], rangeEnd: [0]), options: options)
        #expect(keys(result) == ["a", "c"] && result.count == 4)
    }

    @Test("historical reads, the compaction boundary and future revisions (§3.3)")
    func revisions() throws {
        let store = try store()
        var options = RangeOptions()
        options.revision = 3
        #expect(keys(try store.range(KeyRange(key: [0], rangeEnd: [0]), options: options)) == ["a", "b"])
        options.revision = 7
        #expect(throws: MVCCError.futureRevision) { try store.range(KeyRange(key: .k("a")), options: options) }
        try store.compact(at: 4)
        options.revision = 4
        #expect(try store.range(KeyRange(key: .k("a")), options: options).kvs.first?.value == .k("3"))
        options.revision = 3
        #expect(throws: MVCCError.compacted) { try store.range(KeyRange(key: .k("a")), options: options) }
        options.revision = -1
        #expect(try store.range(KeyRange(key: .k("a")), options: options).kvs.first?.value == .k("4"))
    }
}
