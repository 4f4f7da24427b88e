import Foundation
import MVCC
import NIOConcurrencyHelpers
import NIOCore
import Testing
@testable import WatchHub

@Suite("watch hub (etcd-semantics §9)")
struct WatchHubTests {
    @Test("created responses come first, in request order, with auto IDs from 0 and the current revision")
    func createdFirst() throws {
        let h = try HubHarness()
        try h.put("a=1")
        let stream = h.watchHub.openStream(sink: RecordingSink())
        h.watchHub.watch(stream, "a")
        h.watchHub.watch(stream, "b")
        try h.put("a=2")
        #expect(try h.watchHub.drainAll(stream) == [
            .created(0, revision: 2), .created(1, revision: 2), .events(0, revision: 3, ["PUT a 3=2"]),
        ])
    }

    @Test("client IDs are honoured; a duplicate, negative or empty-range create is refused as etcd does")
    func ids() throws {
        let h = try HubHarness()
        let stream = h.watchHub.openStream(sink: RecordingSink())
        h.watchHub.watch(stream, "a", id: 7)
        h.watchHub.watch(stream, "a", id: 7)
        h.watchHub.watch(stream, "a", id: -3)
        h.watchHub.watch(stream, "b", end: "a")
        h.watchHub.watch(stream, "a", start: -1)
        h.watchHub.watch(stream, "a")
        #expect(try h.watchHub.drainAll(stream) == [
            .created(7, revision: 1),
            .refused(reason: "mvcc: duplicate watch ID provided on the WatchStream"),
            .refused(reason: "mvcc: duplicate watch ID provided on the WatchStream"),
            .refused(reason: "mvcc: watcher range is empty"),
            .refused(reason: "etcdserver: mvcc: required revision has been compacted"),
            .created(0, revision: 1),
        ])
    }

    @Test("a past start revision replays history, then continues live without gap or duplicate")
    func replayThenLive() throws {
        let h = try HubHarness()
        try h.put("k=1")  // 2
        try h.put("k=2")  // 3
        try h.put("other=x")  // 4
        let stream = h.watchHub.openStream(sink: RecordingSink())
        h.watchHub.watch(stream, "k", start: 3) { $0.prevKV = true }
        try h.put("k=3")  // 5: published while the watcher is still unsynced
        var received = try h.watchHub.drainAll(stream)
        try h.put("k=4")  // 6: live
        received += try h.watchHub.drainAll(stream)
        let events = received.flatMap(\.eventTexts)
        #expect(events == ["PUT k 3=2 prev=1", "PUT k 5=3 prev=2", "PUT k 6=4 prev=3"])
    }

    @Test("a start revision below the compaction point: created, then canceled with the compaction revision")
    func compactedStart() throws {
        let h = try HubHarness()
        try h.put("k=1")
        try h.put("k=2")
        try h.put("k=3")  // 4
        try h.compact(3)
        let stream = h.watchHub.openStream(sink: RecordingSink())
        h.watchHub.watch(stream, "k", start: 2)
        h.watchHub.watch(stream, "k", start: 3)
        let received = try h.watchHub.drainAll(stream)
        #expect(received.prefix(3) == [.created(0, revision: 4), .canceled(0, revision: 0, compact: 3), .created(1, revision: 4)])
        #expect(received.dropFirst(3).first == .events(1, revision: 4, ["PUT k 3=2", "PUT k 4=3"]))
    }

    @Test("filters drop PUTs or DELETEs; a DELETE carries only its key and revision")
    func filters() throws {
        let h = try HubHarness()
        let stream = h.watchHub.openStream(sink: RecordingSink())
        h.watchHub.watch(stream, "k") { $0.noPut = true }
        h.watchHub.watch(stream, "k") { $0.noDelete = true }
        try h.put("k=1")
        try h.delete("k")
        #expect(try h.watchHub.drainAll(stream) == [
            .created(0, revision: 1), .created(1, revision: 1), .events(1, revision: 2, ["PUT k 2=1"]),
            .events(0, revision: 3, ["DELETE k 3"]),
        ])
    }

    @Test("range, prefix and from-key watchers get every matching event of a revision in one response")
    func ranges() throws {
        let h = try HubHarness()
        let stream = h.watchHub.openStream(sink: RecordingSink())
        h.watchHub.watch(stream, "a", end: "c")
        h.watchHub.watch(stream, "b", end: "\0")
        h.watchHub.watch(stream, "\0", end: "\0")
        try h.put("a=1", "b=2", "c=3", "zz=4")
        let received = try h.watchHub.drainAll(stream)
        #expect(received.dropFirst(3).sorted { $0.description < $1.description } == [
            .events(0, revision: 2, ["PUT a 2=1", "PUT b 2=2"]),
            .events(1, revision: 2, ["PUT b 2=2", "PUT c 2=3", "PUT zz 2=4"]),
            .events(2, revision: 2, ["PUT a 2=1", "PUT b 2=2", "PUT c 2=3", "PUT zz 2=4"]),
        ])
    }

    @Test("cancel is answered and stops events; cancelling an unknown ID gets no reply")
    func cancel() throws {
        let h = try HubHarness()
        let stream = h.watchHub.openStream(sink: RecordingSink())
        h.watchHub.watch(stream, "k")
        try h.put("k=1")
        h.watchHub.cancel(on: stream, watchID: 0)
        h.watchHub.cancel(on: stream, watchID: 42)
        try h.put("k=2")
        #expect(try h.watchHub.drainAll(stream) == [
            .created(0, revision: 1), .events(0, revision: 2, ["PUT k 2=1"]), .canceled(0, revision: 2, compact: 0),
        ])
        #expect(h.watchHub.watcherCount == 0)
    }

    @Test("a progress request is answered once, behind queued events, when every watcher is caught up")
    func progressRequest() throws {
        let h = try HubHarness()
        try h.put("k=1")  // 2
        let stream = h.watchHub.openStream(sink: RecordingSink())
        h.watchHub.requestProgress(on: stream)  // no watchers: nothing
        h.watchHub.watch(stream, "k")
        h.watchHub.watch(stream, "k", start: 2)  // unsynced until caught up
        try h.put("k=2")  // 3
        h.watchHub.requestProgress(on: stream)
        let received = try h.watchHub.drainAll(stream)
        #expect(received.last == .progress(-1, revision: 3))
        #expect(received.filter { if case .progress = $0 { true } else { false } }.count == 1)
    }

    @Test("periodic progress goes to caught-up watchers that received nothing since the last tick")
    func progressTick() throws {
        let h = try HubHarness()
        let stream = h.watchHub.openStream(sink: RecordingSink())
        h.watchHub.watch(stream, "a") { $0.progressNotify = true }
        h.watchHub.watch(stream, "b") { $0.progressNotify = true }
        h.watchHub.watch(stream, "c")
        try h.put("a=1")  // 2
        h.watchHub.progressTick(on: stream)
        h.watchHub.progressTick(on: stream)
        let received = try h.watchHub.drainAll(stream)
        #expect(Array(received.dropFirst(3)) == [
            .events(0, revision: 2, ["PUT a 2=1"]), .progress(1, revision: 2), .progress(0, revision: 2),
            .progress(1, revision: 2),
        ])
    }

    @Test("a stream that stops reading stays within its budget, loses nothing, and catches up when it reads again")
    func slowConsumer() throws {
        let h = try HubHarness {
            $0.streamBudgetBytes = 256
            $0.catchUpBatchBytes = 64
            $0.logMaxEntries = 10
        }
        let slow = h.watchHub.openStream(sink: RecordingSink())
        let fast = h.watchHub.openStream(sink: RecordingSink())
        h.watchHub.watch(slow, "k")
        h.watchHub.watch(fast, "k")
        var fastEvents: [String] = []
        for i in 0..<200 {
            try h.put("k=\(i)")
            #expect(slow.pendingBytes <= 256 + 64, "the slow stream's queue stays bounded")
            fastEvents += try h.watchHub.drainAll(fast).flatMap(\.eventTexts)
        }
        #expect(h.watchHub.syncedCount == 1, "the slow watcher was parked")
        let slowEvents = try h.watchHub.drainAll(slow).flatMap(\.eventTexts)
        let expected = (0..<200).map { "PUT k \($0 + 2)=\($0)" }
        #expect(fastEvents == expected)
        #expect(slowEvents == expected)
        #expect(h.watchHub.syncedCount == 2, "caught up and back in the index")
    }

    @Test("the watchers of one key on a stream share one queued delivery; those past the budget park and catch up")
    func sharedDelivery() throws {
        let h = try HubHarness {
            // Room for two responses of one ten-byte event (32 + 10 bytes each) on a stream with nothing queued.
            $0.streamBudgetBytes = 2 * 42 + 41
        }
        let stream = h.watchHub.openStream(sink: RecordingSink())
        let other = h.watchHub.openStream(sink: RecordingSink())
        try h.put("k=0")  // 2
        for _ in 0..<3 { h.watchHub.watch(stream, "k") }  // 0, 1, 2
        h.watchHub.watch(stream, "k") { $0.prevKV = true }  // 3
        h.watchHub.watch(other, "k")
        _ = try h.watchHub.drainAll(stream)
        _ = try h.watchHub.drainAll(other)
        try h.put("k=1")  // 3
        let queued = h.watchHub.take(from: stream, max: 10)
        guard case .shared(let ids, 3, _) = queued.first else {
            Issue.record("expected one shared delivery first, got \(queued)")
            return
        }
        #expect(ids == [0, 1], "two fit the budget, in match order")
        #expect(queued.count == 1, "the third plain watcher and the prev_kv one were parked")
        #expect(h.watchHub.syncedCount == 3)
        #expect(try h.watchHub.drainAll(other) == [.events(0, revision: 3, ["PUT k 3=1"])])
        // The parked ones catch up from history with exactly the events they missed, prev_kv where asked.
        let caughtUp = try h.watchHub.drainAll(stream)
        #expect(Set(caughtUp.map(\.description)) == [
            Received.events(2, revision: 3, ["PUT k 3=1"]).description,
            Received.events(3, revision: 3, ["PUT k 3=1 prev=0"]).description,
        ])
        #expect(h.watchHub.syncedCount == 5, "caught up and back in the index")
        try h.put("k=2")  // 4: the same again from a full index
        let next = h.watchHub.take(from: stream, max: 10)
        #expect(next.map(\.responseCount) == [2])
        let rest = try h.watchHub.drainAll(stream)
        let all = (next.flatMap { delivery -> [Int64] in
            if case .shared(let ids, _, _) = delivery { ids } else { [] }
        } + rest.compactMap { if case .events(let id, 4, _) = $0 { id } else { nil } }).sorted()
        #expect(all == [0, 1, 2, 3], "every watcher gets revision 4 exactly once")
    }

    @Test("cached per-stream groups of a key's watchers follow every create, cancel and filter")
    func cachedStreamGroups() throws {
        let h = try HubHarness()
        let a = h.watchHub.openStream(sink: RecordingSink())
        let b = h.watchHub.openStream(sink: RecordingSink())
        h.watchHub.watch(a, "k")  // a0
        h.watchHub.watch(a, "k") { $0.prevKV = true }  // a1
        h.watchHub.watch(b, "k")  // b0
        h.watchHub.watch(b, "a", end: "z")  // b1: a range holding k
        _ = try h.watchHub.drainAll(a)
        _ = try h.watchHub.drainAll(b)
        // Kept up as the watchers joined: ready before the first publish, in member order per stream.
        let list = try #require(h.watchHub.index.list(for: Array("k".utf8)))
        #expect(list.streamGroups?.map { [$0.plain, $0.withPrevKV] } == [[[0], [1]], [[0], []]])
        // Each revision is drained before the next is written: revisions waiting together would share responses.
        var onA: [Received] = []
        var onB: [Received] = []
        func put(_ assignment: String) throws {
            _ = try h.put(assignment)
            onA += try h.watchHub.drainAll(a)
            onB += try h.watchHub.drainAll(b)
        }
        func received(_ responses: inout [Received]) -> [String] {
            defer { responses.removeAll() }
            return responses.map(\.description).sorted()
        }
        for i in 0..<3 { try put("k=\(i)") }
        #expect(received(&onA) == (2...4).flatMap { revision in
            ["events(0 @\(revision) [\"PUT k \(revision)=\(revision - 2)\"])",
             "events(1 @\(revision) [\"PUT k \(revision)=\(revision - 2)\(revision > 2 ? " prev=\(revision - 3)" : "")\"])"]
        }.sorted())
        #expect(received(&onB).count == 6)
        #expect(list.streamGroups?.count == 2)
        // A new plain watcher joins its stream's group; a cancel drops the groups, rebuilt over later publishes.
        h.watchHub.watch(a, "k")  // a2
        #expect(list.streamGroups?.map { [$0.plain, $0.withPrevKV] } == [[[0, 2], [1]], [[0], []]])
        h.watchHub.cancel(on: b, watchID: 0)
        #expect(list.streamGroups == nil)
        onA = try h.watchHub.drainAll(a)
        onB = try h.watchHub.drainAll(b)
        for i in 3..<6 { try put("k=\(i)") }  // 5, 6 visit every member; 7 uses the rebuilt groups
        #expect(list.streamGroups != nil)
        // A filtered watcher makes the key's members differ: every member is visited again.
        h.watchHub.watch(b, "k") { $0.noPut = true }  // b2
        onB += try h.watchHub.drainAll(b)
        try put("k=6")  // 8
        _ = try h.delete("k")  // 9
        #expect(list.streamGroups == nil)
        onA += try h.watchHub.drainAll(a)
        onB += try h.watchHub.drainAll(b)
        func revisions(_ responses: [Received], _ id: Int64) -> [Int64] {
            responses.compactMap { if case .events(id, let revision, _) = $0 { revision } else { nil } }
        }
        #expect(revisions(onA, 0) == [5, 6, 7, 8, 9])
        #expect(revisions(onA, 1) == [5, 6, 7, 8, 9])
        #expect(revisions(onA, 2) == [5, 6, 7, 8, 9])
        #expect(revisions(onB, 0) == [], "canceled")
        #expect(revisions(onB, 1) == [5, 6, 7, 8, 9])
        #expect(revisions(onB, 2) == [9], "NOPUT: the delete only")
    }

    @Test("a revision joins the same watchers' shared response still waiting at the tail; fragmenting ones stay apart")
    func sharedMerges() throws {
        let h = try HubHarness {
            $0.mergeBacklog = 3
            $0.catchUpBatchBytes = 32 + 3 * 10  // three ten-byte events per merged response
        }
        let plain = h.watchHub.openStream(sink: RecordingSink())
        let mixed = h.watchHub.openStream(sink: RecordingSink())
        for _ in 0..<3 { h.watchHub.watch(plain, "k") }  // 0, 1, 2
        for _ in 0..<2 { h.watchHub.watch(mixed, "k") }  // 0, 1
        h.watchHub.watch(mixed, "k") { $0.fragment = true }  // 2
        _ = try h.watchHub.drainAll(plain)
        _ = try h.watchHub.drainAll(mixed)
        for i in 0..<5 { _ = try h.put("k=\(i)") }  // revisions 2...6, nothing drained
        func shape(_ deliveries: [Delivery]) -> [String] {
            deliveries.map { delivery in
                switch delivery {
                case .shared(let ids, let revision, let events): "shared \(ids) @\(revision) x\(events.count)"
                case .events(let id, let revision, let events, let fragmentable):
                    "events \(id) @\(revision) x\(events.count)\(fragmentable ? " fragmentable" : "")"
                default: "\(delivery)"
                }
            }
        }
        #expect(shape(h.watchHub.take(from: plain, max: 100)) == [
            // Nothing was taken between the revisions (as when one flush publishes a group commit's revisions):
            // 2, 3 and 4 share one response per watcher (the size limit, header at the last), 5 starts the next.
            "shared [0, 1, 2] @4 x3", "shared [0, 1, 2] @6 x2",
        ])
        // The fragmenting watcher gets every revision on its own, fragmentable; with its responses queued between
        // theirs, the others' shared responses are not merged into (only the last queued delivery ever is).
        #expect(shape(h.watchHub.take(from: mixed, max: 100)) == (2...6).flatMap { revision in
            ["events 2 @\(revision) x1 fragmentable", "shared [0, 1] @\(revision) x1"]
        })
    }

    @Test("a group commit's revisions published together reach a sink draining on another thread whole: one response per watcher")
    func batchPublishedWhole() throws {
        let h = try HubHarness()
        let stream = h.watchHub.openStream(sink: RecordingSink())
        for _ in 0..<3 { h.watchHub.watch(stream, "k") }  // 0, 1, 2: one shared delivery per revision
        _ = try h.watchHub.drainAll(stream)
        let batches = 300
        let perBatch = 4
        let drained = NIOLockedValueBox<[Delivery]>([])
        let done = NIOLockedValueBox(false)
        let drainerDone = DispatchSemaphore(value: 0)
        // Takes as fast as it can while the batches are published, then what is left.
        let drainer = Thread {
            while true {
                let finished = done.withLockedValue { $0 }
                let taken = h.watchHub.take(from: stream, max: 1000)
                drained.withLockedValue { $0 += taken }
                if finished && taken.isEmpty { break }
            }
            drainerDone.signal()
        }
        drainer.start()
        for _ in 0..<batches {
            var commits: [(revision: Int64, events: [Event])] = []
            for _ in 0..<perBatch {
                let txn = h.store.beginWrite()
                try txn.put(key: Array("k".utf8), value: Array("v".utf8), lease: 0)
                let outcome = try txn.commit()
                commits.append((outcome.revision, outcome.events))
            }
            h.watchHub.publish(commits)
        }
        done.withLockedValue { $0 = true }
        drainerDone.wait()
        // Revisions 2...1201 in batches of four: 2...5, 6...9, …. Every response ends at a batch's last revision
        // and carries whole batches (merged ones several), and together they carry every revision once, in order.
        var next: Int64 = 2
        for delivery in drained.withLockedValue({ $0 }) {
            guard case .shared(let ids, let revision, let events) = delivery else {
                Issue.record("unexpected delivery \(delivery)")
                continue
            }
            #expect(ids == [0, 1, 2])
            #expect((revision - 1) % Int64(perBatch) == 0, "a response ends at a batch's last revision")
            #expect(Int64(events.count) == revision - next + 1, "no revision missing or repeated")
            next = revision + 1
        }
        #expect(next == Int64(2 + batches * perBatch))
    }

    @Test("on a backed-up stream a watcher's new events join its waiting response, never past another response")
    func backlogMerges() throws {
        let h = try HubHarness {
            $0.mergeBacklog = 1
            $0.catchUpBatchBytes = 32 + 3 * 10  // three ten-byte events per merged response
        }
        let stream = h.watchHub.openStream(sink: RecordingSink())
        // A watcher alone on its stream gets responses of its own, not shared ones: the per-watcher merge.
        h.watchHub.watch(stream, "k")
        _ = try h.watchHub.drainAll(stream)
        for i in 0..<5 { try h.put("k=\(i)") }  // revisions 2...6
        h.watchHub.requestProgress(on: stream)
        try h.put("k=5")  // 7
        let received = try h.watchHub.drainAll(stream)
        #expect(received == [
            // Revision 2 finds no response waiting; from revision 3 on, the watcher's new events join its waiting
            // response, up to three events; revision 6 starts a new one.
            .events(0, revision: 2, ["PUT k 2=0"]),
            .events(0, revision: 5, ["PUT k 3=1", "PUT k 4=2", "PUT k 5=3"]),
            .events(0, revision: 6, ["PUT k 6=4"]),
            .progress(-1, revision: 6),
            .events(0, revision: 7, ["PUT k 7=5"]),  // not merged past it
        ])
    }

    @Test("merging resumes after a partial drain without moving a watcher's events before its earlier ones")
    func mergeAfterPartialDrain() throws {
        let h = try HubHarness {
            $0.mergeBacklog = 3
        }
        let stream = h.watchHub.openStream(sink: RecordingSink())
        h.watchHub.watch(stream, "k")
        h.watchHub.watch(stream, "k", end: "l")
        _ = try h.watchHub.drainAll(stream)
        var received: [Received] = []
        for i in 0..<3 { try h.put("k=\(i)") }  // 2...4: the backlog builds and merging starts
        received += h.watchHub.take(stream, max: 3)  // below the backlog again, with merge slots still queued
        for i in 3..<8 { try h.put("k=\(i)") }  // 5...9
        received += try h.watchHub.drainAll(stream)
        for id: Int64 in [0, 1] {
            let events = received.filter { if case .events(id, _, _) = $0 { true } else { false } }.flatMap(\.eventTexts)
            #expect(events == (0..<8).map { "PUT k \($0 + 2)=\($0)" }, "watch \(id): every event once, in order")
        }
        #expect(received.count < 16, "some revisions were merged")
    }

    @Test("watchers of one key parked together catch up from shared batches, each with exactly its own events")
    func sharedCatchUp() throws {
        let h = try HubHarness {
            $0.streamBudgetBytes = 256
            $0.catchUpBatchBytes = 100
            $0.logMaxEntries = 20
        }
        let slow = h.watchHub.openStream(sink: RecordingSink())
        let other = h.watchHub.openStream(sink: RecordingSink())
        h.watchHub.watch(slow, "k")  // 0
        h.watchHub.watch(slow, "k")  // 1: same wants as 0
        h.watchHub.watch(slow, "k") { $0.prevKV = true }  // 2
        h.watchHub.watch(slow, "k") { $0.noPut = true }  // 3
        h.watchHub.watch(slow, "k", start: 40)  // 4: shares once past its start revision
        h.watchHub.watch(slow, "k", end: "l")  // 5: a range over the same key
        h.watchHub.watch(other, "k")  // 0 on another stream, also slow
        var expected: [String] = []
        var expectedPrev: [String] = []
        var expectedDeletes: [String] = []
        var previous: String?
        for i in 0..<120 {
            if i % 7 == 6 {
                let revision = try h.delete("k")
                expected.append("DELETE k \(revision)")
                expectedPrev.append("DELETE k \(revision)" + (previous.map { " prev=\($0)" } ?? ""))
                expectedDeletes.append("DELETE k \(revision)")
                previous = nil
            } else {
                let revision = try h.put("k=\(i)")
                expected.append("PUT k \(revision)=\(i)")
                expectedPrev.append("PUT k \(revision)=\(i)" + (previous.map { " prev=\($0)" } ?? ""))
                previous = "\(i)"
            }
        }
        var byWatcher: [Int64: [String]] = [:]
        for response in try h.watchHub.drainAll(slow) {
            if case .events(let id, _, let events) = response { byWatcher[id, default: []] += events }
        }
        let fromStart = expected.filter { Int($0.split(separator: " ")[2].split(separator: "=")[0])! >= 40 }
        #expect(byWatcher[0] == expected)
        #expect(byWatcher[1] == expected)
        #expect(byWatcher[2] == expectedPrev)
        #expect(byWatcher[3] == expectedDeletes)
        #expect(byWatcher[4] == fromStart)
        #expect(byWatcher[5] == expected)
        #expect(try h.watchHub.drainAll(other).flatMap(\.eventTexts) == expected)
        #expect(h.watchHub.syncedCount == 7, "every watcher caught up and back in the index")
    }

    @Test("watchers parked at different revisions catch up from one batch, each from its own revision")
    func catchUpFromDifferentRevisions() throws {
        let h = try HubHarness {
            $0.streamBudgetBytes = 256
            $0.catchUpBatchBytes = 100
        }
        let early = h.watchHub.openStream(sink: RecordingSink())
        let late = h.watchHub.openStream(sink: RecordingSink())
        h.watchHub.watch(early, "k")
        h.watchHub.watch(late, "k")
        var expected: [String] = []
        var lateSoFar: [String] = []
        for i in 0..<60 {
            let revision = try h.put("k=\(i)")
            expected.append("PUT k \(revision)=\(i)")
            // The late stream reads now and then for a while, so its watcher is parked later than the early one.
            if i % 5 == 4 && i < 30 { lateSoFar += try h.watchHub.drainAll(late).flatMap(\.eventTexts) }
        }
        #expect(try h.watchHub.drainAll(early).flatMap(\.eventTexts) == expected)
        #expect(lateSoFar + (try h.watchHub.drainAll(late).flatMap(\.eventTexts)) == expected)
        #expect(h.watchHub.syncedCount == 2)
    }

    @Test("a catch-up batch hands out whole revisions from any revision it covers, as slices of its pieces")
    func batchSuffixes() {
        func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
        var batch = CatchUpBatchCache.Batch(first: 10)
        #expect(batch.serves(10) && !batch.serves(11) && !batch.serves(9))
        batch.append(bytes("r10.......r12......."), marks: [(10, 0), (12, 10)], through: 12)
        batch.append(bytes("r13.......r15......."), marks: [(13, 20), (15, 30)], through: 16)
        #expect(batch.serves(17) && !batch.serves(18))
        func text(_ part: (pieces: [ByteBuffer], through: Int64)) -> String {
            part.pieces.map { String(buffer: $0) }.joined() + " through \(part.through)"
        }
        #expect(text(batch.suffix(from: 11, maxBytes: 100)) == "r12.......r13.......r15....... through 16")
        #expect(text(batch.suffix(from: 10, maxBytes: 15)) == "r10.......r12....... through 12",
                "stops after the revision that reaches the limit, covering the quiet revisions before the next")
        #expect(text(batch.suffix(from: 13, maxBytes: 1)) == "r13....... through 14")
        #expect(text(batch.suffix(from: 16, maxBytes: 100)) == " through 16", "nothing left: covered anyway")
        #expect(batch.offset(from: 14) == 30 && batch.offset(from: 17) == 40)
    }

    @Test("a watch compaction canceled keeps its ID until the client cancels it, as in etcd; that cancel is answered")
    func compactedIDKeptUntilCanceled() throws {
        let h = try HubHarness()
        for i in 1...3 { try h.put("k=\(i)") }  // 2...4
        try h.compact(3)
        let stream = h.watchHub.openStream(sink: RecordingSink())
        h.watchHub.watch(stream, "k", id: 2, start: 2)  // created, then canceled by compaction
        h.watchHub.watch(stream, "k", id: 2)  // still taken: a duplicate
        h.watchHub.watch(stream, "k", start: 2)  // automatic: 0, canceled by compaction as well
        h.watchHub.watch(stream, "k")  // automatic: 1
        h.watchHub.watch(stream, "k")  // automatic: 3, as 2 is still taken
        #expect(try h.watchHub.drainAll(stream) == [
            .created(2, revision: 4), .canceled(2, revision: 0, compact: 3),
            .refused(reason: "mvcc: duplicate watch ID provided on the WatchStream"),
            .created(0, revision: 4), .canceled(0, revision: 0, compact: 3), .created(1, revision: 4),
            .created(3, revision: 4),
        ])
        try h.put("k=4")  // 5
        h.watchHub.cancel(on: stream, watchID: 2)  // answered, and frees the ID
        h.watchHub.cancel(on: stream, watchID: 2)  // unknown now: no reply
        h.watchHub.watch(stream, "k", id: 2)  // free again
        #expect(try h.watchHub.drainAll(stream) == [
            .events(1, revision: 5, ["PUT k 5=4"]), .events(3, revision: 5, ["PUT k 5=4"]),
            .canceled(2, revision: 5, compact: 0), .created(2, revision: 5),
        ])
        #expect(h.watchHub.watcherCount == 3)
    }

    @Test("compaction overtaking a parked watcher cancels it with the compaction revision; caught-up ones go on")
    func compactionCancelsLaggard() throws {
        let h = try HubHarness {
            $0.streamBudgetBytes = 64
        }
        let slow = h.watchHub.openStream(sink: RecordingSink())
        h.watchHub.watch(slow, "k")
        h.watchHub.watch(slow, "other")
        for i in 0..<20 { try h.put("k=\(i)") }
        try h.compact(15)
        try h.put("other=x")
        let received = try h.watchHub.drainAll(slow)
        #expect(received.contains(.canceled(0, revision: 0, compact: 15)))
        #expect(received.last == .events(1, revision: 22, ["PUT other 22=x"]))
    }

    @Test("opening and closing 100,000 watches leaves nothing behind")
    func manyWatches() throws {
        let h = try HubHarness()
        let streams = (0..<10).map { _ in h.watchHub.openStream(sink: RecordingSink()) }
        for round in 0..<2 {
            for i in 0..<100_000 {
                h.watchHub.watch(streams[i % 10], "key-\(i % 5000)", end: i % 3 == 0 ? "key-\(i % 5000)z" : "")
            }
            #expect(h.watchHub.watcherCount == 100_000)
            try h.put("key-42=\(round)")
            for stream in streams { _ = try h.watchHub.drainAll(stream) }
            for (n, stream) in streams.enumerated() {
                // Auto IDs restart from where the stream left off; cancel whatever this round created.
                let first = Int64(round * 10_000)
                for id in first..<(first + 10_000) { h.watchHub.cancel(on: stream, watchID: id) }
                _ = n
                _ = try h.watchHub.drainAll(stream)
            }
            #expect(h.watchHub.watcherCount == 0)
            #expect(h.watchHub.syncedCount == 0)
        }
        for stream in streams { h.watchHub.closeStream(stream) }
        #expect(h.watchHub.streamCount == 0)
    }
}
