public import MVCC
public import NIOCore

/// One response a stream must send, in the order the hub queued it. Event bytes are shared, pre-encoded `events`
/// fields of `WatchResponse` (see the hub's `EventEncoder`).
public enum Delivery: Sendable {
    /// `{watch_id, created: true}` at `revision`; or, for a refused create, watch_id -1 with canceled and a reason.
    case created(watchID: Int64, revision: Int64, canceled: Bool, reason: String)
    /// `{watch_id, canceled: true}`: a cancel's reply (`compactRevision` 0, header at `revision`) or a compaction
    /// cancel (`compactRevision` set, header revision 0 as etcd sends it).
    case canceled(watchID: Int64, revision: Int64, compactRevision: Int64)
    /// A progress notification `{watch_id, header.revision}`; watch_id -1 answers a stream-wide progress request.
    case progress(watchID: Int64, revision: Int64)
    /// Events for one watcher; `revision` is the header revision. `fragmentable` when the watcher asked for
    /// fragments.
    case events(watchID: Int64, revision: Int64, events: [[UInt8]], fragmentable: Bool)
    /// The same events for several watchers of the stream, one response each, in `watchIDs` order: what a revision
    /// gives the many watchers of one key, queued once instead of once per watcher; on a backed-up stream later
    /// revisions join it (at most the catch-up batch size). Never fragmented: watchers that asked for fragments get
    /// `.events` of their own.
    case shared(watchIDs: [Int64], revision: Int64, events: [[UInt8]])

    /// A catch-up response for one watcher whose events are `pieces`, each the joined `events` fields of
    /// consecutive revisions, built once and shared by every watcher that catches up over the same revisions:
    /// buffers the transport sends as they are, without copying them per watcher. Never fragmented (watchers that
    /// asked for fragments are caught up with `.events`).
    case batch(watchID: Int64, revision: Int64, pieces: [ByteBuffer])

    /// The bytes this delivery will take, roughly, for the stream's budget.
    var estimatedSize: Int {
        switch self {
        case .events(_, _, let events, _): Self.eventsSize(events)
        case .shared(let watchIDs, _, let events): watchIDs.count * Self.eventsSize(events)
        case .batch(_, _, let pieces): 32 + pieces.reduce(0) { $0 + $1.readableBytes }
        default: 48
        }
    }

    /// How many responses this delivery sends.
    public var responseCount: Int {
        if case .shared(let watchIDs, _, _) = self { watchIDs.count } else { 1 }
    }

    /// The estimated size of one events response carrying `events`.
    static func eventsSize(_ events: [[UInt8]]) -> Int {
        32 + events.reduce(0) { $0 + $1.count }
    }
}

/// Turns a committed event into the bytes of one `events` field (with or without its previous version). Injected
/// by the service layer, which owns the wire format; the hub only stores and shares the bytes.
public typealias EventEncoder = @Sendable (_ event: Event, _ includePrevKV: Bool) -> [UInt8]
