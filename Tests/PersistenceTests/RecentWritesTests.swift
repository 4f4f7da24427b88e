import MVCC
@testable import Persistence
import Testing

@Suite("recent writes")
struct RecentWritesTests {
    /// A revision's records: `count` puts of `valueBytes` bytes each, sub-revisions 0 up.
    private func records(_ revision: Int64, count: Int = 1, valueBytes: Int = 4) -> [RevisionRecord] {
        (0..<count).map { sub in
            let kv = KeyValue(
                key: Array("k\(revision).\(sub)".utf8), createRevision: revision, modRevision: revision, version: 1,
                value: [UInt8](repeating: UInt8(sub), count: valueBytes))
            return RevisionRecord(revision: Revision(main: revision, sub: Int64(sub)), kv: kv, isTombstone: false)
        }
    }

    @Test("records are found by revision and sub-revision; revisions never written are not")
    func lookup() {
        var recent = RecentWrites(maxBytes: 1 << 20)
        for revision: Int64 in [2, 5, 9] { recent.append(revision: revision, records: records(revision, count: 3)) }
        #expect(recent[Revision(main: 5, sub: 2)] == records(5, count: 3)[2])
        #expect(recent[Revision(main: 2, sub: 0)] == records(2, count: 3)[0])
        #expect(recent[Revision(main: 9, sub: 1)]?.revision == Revision(main: 9, sub: 1))
        #expect(recent[Revision(main: 9, sub: 3)] == nil)
        for missing: Int64 in [1, 3, 4, 6, 10] { #expect(recent[Revision(main: missing, sub: 0)] == nil) }
    }

    @Test("only unflushed records are listed for a range, in revision order")
    func unflushedInRange() {
        var recent = RecentWrites(maxBytes: 1 << 20)
        for revision: Int64 in 2...11 { recent.append(revision: revision, records: records(revision, count: 2)) }
        recent.markFlushed(revisions: 4)  // 2...5
        #expect(recent.unflushed(in: 1...8).map(\.revision.main) == [6, 6, 7, 7, 8, 8])
        #expect(recent.unflushed(in: 9...100).map(\.revision) == [9, 10, 11].flatMap {
            [Revision(main: $0, sub: 0), Revision(main: $0, sub: 1)]
        })
        #expect(recent.unflushed(in: 2...5).isEmpty)
        #expect(recent[Revision(main: 3, sub: 1)] != nil, "flushed records within the budget stay readable")
    }

    @Test("flushed revisions beyond the budget are dropped oldest first; unflushed ones never")
    func budget() {
        // Each revision: one record of 100 value bytes plus key and overhead, ~200 bytes; budget for ~10.
        var recent = RecentWrites(maxBytes: 2_000)
        for revision: Int64 in 1...30 { recent.append(revision: revision, records: records(revision, valueBytes: 100)) }
        #expect(recent.bytes > 2_000, "nothing is dropped before it is flushed")
        #expect(recent[Revision(main: 1)] != nil)
        recent.markFlushed(revisions: 25)
        #expect(recent.bytes <= 2_000 || recent[Revision(main: 25)] == nil)
        #expect(recent[Revision(main: 1)] == nil)
        for revision: Int64 in 26...30 { #expect(recent[Revision(main: revision)] != nil, "unflushed \(revision)") }
        recent.markFlushed(revisions: 5)
        #expect(recent.bytes <= 2_000)
        #expect(recent[Revision(main: 30)] != nil, "the newest flushed revisions stay")
    }

    @Test("a long run of writes and flushes keeps lookups and ranges right as dropped entries are reclaimed")
    func longRun() {
        var recent = RecentWrites(maxBytes: 50_000)
        var flushed: Int64 = 0
        for revision: Int64 in 1...20_000 {
            recent.append(revision: revision, records: records(revision, count: 1 + Int(revision % 3)))
            if revision % 7 == 0 {
                recent.markFlushed(revisions: Int(revision - flushed))
                flushed = revision
            }
        }
        #expect(recent.bytes <= 50_000 + 20 * 200)
        #expect(recent[Revision(main: 100)] == nil)
        #expect(recent[Revision(main: 19_997, sub: 2)] == records(19_997, count: 3)[2])
        #expect(recent[Revision(main: 19_997, sub: 3)] == nil)
        #expect(recent[Revision(main: flushed, sub: 0)] != nil)
        let expected = (flushed + 1...20_000).flatMap { records($0, count: 1 + Int($0 % 3)) }
        #expect(!expected.isEmpty)
        #expect(recent.unflushed(in: 1...20_000) == expected)
    }
}
