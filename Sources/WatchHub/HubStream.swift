/// Where the hub hands a stream's responses: the service's stream handler, which drains them on its own event
/// loop. `wake()` may be called from any thread, under the hub lock; it must only schedule work, never call back
/// into the hub synchronously.
public protocol WatchSink: AnyObject, Sendable {
    func wake()
}

/// The hub's state for one Watch stream: its watchers, the queue of responses it has yet to send, and the budget
/// that keeps that queue bounded. Every field is guarded by the hub lock.
public final class HubStream {
    /// Watchers by ID.
    var watchers = WatcherTable()
    /// The next ID to try for a watch created without one (etcd starts at 0 on every stream).
    var nextAutoID: Int64 = 0
    /// Responses queued and not yet taken by the sink, oldest first (from `pendingHead` on).
    var pending: [Delivery] = []
    var pendingHead = 0
    /// Estimated bytes of `pending`.
    var pendingBytes = 0
    /// IDs of this stream's watchers that are behind.
    var unsynced: Set<Int64> = []
    /// Set while a progress request waits for every watcher to be caught up.
    var progressRequested = false
    /// Set between a `wake()` and the sink's next drain, so wakes coalesce.
    var wakePending = false
    /// Set once the stream closed; nothing more is queued.
    var closed = false
    /// Where responses go; dropped when the stream closes.
    var sink: (any WatchSink)?

    init(sink: any WatchSink) {
        self.sink = sink
    }

    var hasPending: Bool { pendingHead < pending.count }

    func enqueue(_ delivery: Delivery) {
        pending.append(delivery)
        pendingBytes += delivery.estimatedSize
    }

    func take(max: Int) -> [Delivery] {
        let end = Swift.min(pending.count, pendingHead + max)
        let taken = Array(pending[pendingHead..<end])
        pendingHead = end
        for delivery in taken { pendingBytes -= delivery.estimatedSize }
        if pendingHead == pending.count {
            pending.removeAll(keepingCapacity: pending.count < 1024)
            pendingHead = 0
        }
        return taken
    }
}
