import MVCC
import NIOConcurrencyHelpers
import NIOCore
@testable import WatchHub

/// A store and a hub wired as the service wires them, with a readable event encoding, for tests without sockets.
final class HubHarness: @unchecked Sendable {
    let store: KVStore

    /// Events encode as text, each ended by ";": "PUT key rev[ prev=value];" / "DELETE key rev[ prev=value];". The
    /// terminator lets the harness split pieces that hold several events (shared catch-up batches).
    static let encoder: EventEncoder = { event, withPrev in
        var text = "\(event.kind == .put ? "PUT" : "DELETE") \(String(decoding: event.kv.key, as: UTF8.self)) \(event.kv.modRevision)"
        if event.kind == .put { text += "=\(String(decoding: event.kv.value, as: UTF8.self))" }
        if withPrev, let prev = event.prevKV { text += " prev=\(String(decoding: prev.value, as: UTF8.self))" }
        return Array((text + ";").utf8)
    }

    struct History: WatchHistory {
        unowned let harness: HubHarness
        func revisions(in range: ClosedRange<Int64>, maxBytes: Int) throws -> (revisions: [(Int64, [Event])], through: Int64) {
            var grouped: [(Int64, [Event])] = []
            for record in try harness.store.records(mainRevisions: range) {
                let prev = try harness.store.get(record.kv.key, at: record.revision.main - 1)
                let event = Event(kind: record.isTombstone ? .delete : .put, kv: record.kv, prevKV: prev)
                if grouped.last?.0 == record.revision.main { grouped[grouped.count - 1].1.append(event) } else {
                    grouped.append((record.revision.main, [event]))
                }
            }
            return (grouped, range.upperBound)
        }
    }

    /// A harness whose hub runs with the defaults as `configure` adjusts them.
    convenience init(_ configure: (inout WatchHubConfiguration) -> Void) throws {
        var configuration = WatchHubConfiguration()
        configure(&configuration)
        try self.init(configuration: configuration)
    }

    init(configuration: WatchHubConfiguration = WatchHubConfiguration()) throws {
        store = try KVStore()
        let hub = WatchHub(
            currentRevision: store.currentRevision, compactRevision: store.compactRevision, history: History(harness: self),
            encoder: Self.encoder, configuration: configuration)
        self.hubStorage = hub
    }

    private var hubStorage: WatchHub?
    var watchHub: WatchHub { hubStorage! }

    /// Commits puts of `pairs` ("key=value") in one revision and publishes them.
    @discardableResult
    func put(_ pairs: String...) throws -> Int64 {
        let txn = store.beginWrite()
        for pair in pairs {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            try txn.put(key: Array(parts[0].utf8), value: Array((parts.count > 1 ? parts[1] : "").utf8), lease: 0)
        }
        let outcome = try txn.commit()
        watchHub.publish(revision: outcome.revision, events: outcome.events)
        return outcome.revision
    }

    @discardableResult
    func delete(_ key: String, end: String = "") throws -> Int64 {
        let txn = store.beginWrite()
        try txn.deleteRange(KeyRange(key: Array(key.utf8), rangeEnd: Array(end.utf8)))
        let outcome = try txn.commit()
        if !outcome.events.isEmpty { watchHub.publish(revision: outcome.revision, events: outcome.events) }
        return outcome.revision
    }

    func compact(_ revision: Int64) throws {
        try store.compact(at: revision)
        watchHub.compacted(at: store.compactRevision)
    }
}

/// A sink that records wakes; the test drains by hand.
final class RecordingSink: WatchSink, @unchecked Sendable {
    let wakes = NIOLockedValueBox(0)
    func wake() { wakes.withLockedValue { $0 += 1 } }
}

/// What a stream received, in a comparable form.
enum Received: Equatable, CustomStringConvertible {
    case created(Int64, revision: Int64)
    case refused(reason: String)
    case canceled(Int64, revision: Int64, compact: Int64)
    case progress(Int64, revision: Int64)
    case events(Int64, revision: Int64, [String])

    var description: String {
        switch self {
        case .created(let id, let revision): "created(\(id) @\(revision))"
        case .refused(let reason): "refused(\(reason))"
        case .canceled(let id, let revision, let compact): "canceled(\(id) @\(revision) compact \(compact))"
        case .progress(let id, let revision): "progress(\(id) @\(revision))"
        case .events(let id, let revision, let events): "events(\(id) @\(revision) \(events))"
        }
    }
}

extension WatchHub {
    /// Drains the stream completely, catching up parked watchers as the service's handler does.
    func drainAll(_ stream: HubStream) throws -> [Received] {
        var received: [Received] = []
        while true {
            let taken = take(stream, max: 1000)
            if taken.isEmpty {
                if try catchUp(stream) { continue }
                return received
            }
            received += taken
        }
    }

    /// Takes up to `max` queued responses (no catching up), in a comparable form.
    func take(_ stream: HubStream, max: Int) -> [Received] {
        take(from: stream, max: max).flatMap { delivery -> [Received] in
            func texts(_ events: [[UInt8]]) -> [String] {
                events.map { String(decoding: $0, as: UTF8.self) }.joined().split(separator: ";").map(String.init)
            }
            switch delivery {
            case .created(let id, let revision, let canceled, let reason):
                return [canceled ? .refused(reason: reason) : .created(id, revision: revision)]
            case .canceled(let id, let revision, let compact):
                return [.canceled(id, revision: revision, compact: compact)]
            case .progress(let id, let revision):
                return [.progress(id, revision: revision)]
            case .events(let id, let revision, let events, _):
                return [.events(id, revision: revision, texts(events))]
            case .shared(let ids, let revision, let events):
                return ids.map { .events($0, revision: revision, texts(events)) }
            case .batch(let id, let revision, let pieces):
                return [.events(id, revision: revision, texts(pieces.map { Array($0.readableBytesView) }))]
            }
        }
    }

    func watch(
        _ stream: HubStream, _ key: String, end: String = "", id: Int64 = 0, start: Int64 = 0,
        configure: (inout WatchOptions) -> Void = { _ in }
    ) {
        var options = WatchOptions()
        options.startRevision = start
        configure(&options)
        create(on: stream, requestedID: id, range: KeyRange(key: Array(key.utf8), rangeEnd: Array(end.utf8)), options: options)
    }
}

extension Received {
    /// The event texts of an events response; empty for anything else.
    var eventTexts: [String] {
        if case .events(_, _, let events) = self { return events }
        return []
    }
}
