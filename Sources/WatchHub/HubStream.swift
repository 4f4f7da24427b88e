/// Where the hub hands a stream's responses: the service's stream handler, which drains them on its own event
/// loop. `wake()` may be called from any thread, under the hub lock; it must only schedule work, never call back
/// into the hub synchronously.
public protocol WatchSink: AnyObject, Sendable {
    func wake()
}

/// The hub's state for one Watch stream: its watchers, the queue of responses it has yet to send, and the budget
/// that keeps that queue bounded. Every field is guarded by the hub lock, which is why a reference may be handed to
/// another thread (the stream's progress timer): only the hub touches the fields, under its lock.
public final class HubStream: @unchecked Sendable {
    /// Watchers by ID.
    var watchers = WatcherTable()
    /// The next ID to try for a watch created without one (etcd starts at 0 on every stream).
    var nextAutoID: Int64 = 0
    /// Responses queued and not yet taken by the sink, oldest first (from `pendingHead` on).
    var pending: [Delivery] = []
    var pendingHead = 0
    /// Estimated bytes of `pending`.
    var pendingBytes = 0
    /// Responses `pending` will send (a `.shared` delivery sends several): the stream's backlog.
    private var pendingResponses = 0
    /// IDs of this stream's watchers that are behind.
    var unsynced: Set<Int64> = []
    /// IDs of watches compaction canceled that the client has not canceled yet. As in etcd, such an ID stays taken
    /// (a create with it is a duplicate, automatic IDs skip it) and its cancel is answered; the client's cancel
    /// frees it. Clients that cancel the watch on seeing the compaction (clientv3, python-etcd3) keep this empty.
    var compactedIDs: Set<Int64> = []
    /// Set while a progress request waits for every watcher to be caught up.
    var progressRequested = false
    /// Set between a `wake()` and the sink's next drain, so wakes coalesce.
    var wakePending = false
    /// Set once the stream closed; nothing more is queued.
    var closed = false
    /// Where responses go; dropped when the stream closes.
    var sink: (any WatchSink)?
    /// For each watcher whose events response is the latest of its responses in `pending`, not yet taken, with no
    /// other kind of response queued after it: that response's position in `pending` and its estimated size. New
    /// events of the watcher are merged into it while the stream is backed up (see `enqueue`).
    private var mergeSlots: [Int64: (position: Int, size: Int)] = [:]
    /// From this many waiting responses on, a watcher's new events join its waiting events response.
    let mergeBacklog: Int
    /// The largest merged events response, in bytes.
    let mergeMaxBytes: Int

    init(sink: any WatchSink, mergeBacklog: Int, mergeMaxBytes: Int) {
        self.sink = sink
        self.mergeBacklog = mergeBacklog
        self.mergeMaxBytes = mergeMaxBytes
    }

    var hasPending: Bool { pendingHead < pending.count }

    /// Whether watch ID `id` is in use on this stream: by a watcher, or by a watch compaction canceled that the
    /// client has not canceled yet.
    func isTaken(_ id: Int64) -> Bool { watchers[id] != nil || compactedIDs.contains(id) }

    /// The revision whose matching watchers `sharedPlain`/`sharedWithPrevKV` are collecting (hub's publish only).
    var sharedRevision: Int64 = -1
    /// IDs of this stream's watchers matched by the revision being published, without and with prev_kv: scratch
    /// space of the hub's publish, empty outside it. IDs rather than watchers: no reference counting per watcher.
    var sharedPlain: [Int64] = []
    var sharedWithPrevKV: [Int64] = []

    /// Queues `delivery`. While the stream is backed up (`mergeBacklog` responses waiting: the client or the
    /// transport is slower than the writers), an events response for a watcher that already has one waiting is
    /// merged into it instead, up to `mergeMaxBytes`: one response carrying consecutive revisions, as etcd sends a
    /// lagging watcher, costs both ends far less than one per revision. Merging only moves events earlier than
    /// they would have been, never past another response: any other kind of response ends every merge.
    func enqueue(_ delivery: Delivery) {
        // The common case, a stream that keeps up: nothing to merge into and nothing to record.
        if mergeSlots.isEmpty && pendingResponses < mergeBacklog {
            append(delivery)
            return
        }
        switch delivery {
        case .events(let id, let revision, let events, false):
            guard pendingResponses >= mergeBacklog else {
                // Below the backlog nothing is merged or recorded (a stream that keeps up pays nothing for this);
                // a slot recorded earlier no longer holds the watcher's latest response, so it must go.
                if !mergeSlots.isEmpty { mergeSlots[id] = nil }
                break
            }
            let added = events.reduce(0) { $0 + $1.count }
            if let slot = mergeSlots[id], slot.position >= pendingHead, slot.size + added <= mergeMaxBytes,
                case .events(_, _, var merged, false) = pending[slot.position]
            {
                pending[slot.position] = .progress(watchID: id, revision: 0)  // drop its reference: append in place
                merged.append(contentsOf: events)
                pending[slot.position] = .events(watchID: id, revision: revision, events: merged, fragmentable: false)
                mergeSlots[id] = (slot.position, slot.size + added)
                pendingBytes += added
                return
            }
            mergeSlots[id] = (pending.count, delivery.estimatedSize)
        case .events(let id, _, _, true), .batch(let id, _, _):
            mergeSlots[id] = nil
        default:
            mergeSlots.removeAll(keepingCapacity: true)
        }
        append(delivery)
    }

    private func append(_ delivery: Delivery) {
        // Only a shared delivery at the tail takes later revisions (see `mergeShared`).
        sharedTailSize = nil
        if case .shared(_, _, let events) = delivery { sharedTailSize = Delivery.eventsSize(events) }
        pending.append(delivery)
        pendingBytes += delivery.estimatedSize
        pendingResponses += delivery.responseCount
    }

    /// The size of each response of the last queued delivery, when that is a `.shared` one; nil otherwise.
    private var sharedTailSize: Int?

    /// Merges `events` of `revision` for `watchIDs` into the last queued delivery if that is a `.shared` one for
    /// exactly these watchers, not yet taken, each response stays within `mergeMaxBytes` and the queue within
    /// `budget` bytes: each watcher's response then carries consecutive revisions, as for a per-watcher merge, and
    /// nothing is queued after it, so no order changes and nothing waits longer than it would have. Unlike the
    /// per-watcher merge this needs no backlog: the revisions of one group commit are published together, before
    /// the stream's pump runs, and go out as one response per watcher instead of one per revision. Returns false
    /// when it did not merge.
    func mergeShared(watchIDs: [Int64], revision: Int64, events: [[UInt8]], within budget: Int) -> Bool {
        guard pendingHead < pending.count, let size = sharedTailSize else { return false }
        let last = pending.count - 1
        guard case .shared(let queuedIDs, _, var merged) = pending[last], queuedIDs == watchIDs else { return false }
        let added = events.reduce(0) { $0 + $1.count }
        guard size + added <= mergeMaxBytes, pendingBytes + watchIDs.count * added <= budget else { return false }
        pending[last] = .progress(watchID: 0, revision: 0)  // drop its reference: append in place
        merged.append(contentsOf: events)
        pending[last] = .shared(watchIDs: queuedIDs, revision: revision, events: merged)
        sharedTailSize = size + added
        pendingBytes += watchIDs.count * added
        return true
    }

    func take(max: Int) -> [Delivery] {
        let end = Swift.min(pending.count, pendingHead + max)
        let taken = Array(pending[pendingHead..<end])
        pendingHead = end
        for delivery in taken {
            pendingBytes -= delivery.estimatedSize
            pendingResponses -= delivery.responseCount
        }
        if pendingHead == pending.count {
            pending.removeAll(keepingCapacity: pending.count < 1024)
            pendingHead = 0
            mergeSlots.removeAll(keepingCapacity: true)
        }
        return taken
    }
}
