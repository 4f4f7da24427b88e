public import MVCC

/// One watch: a key range on one stream, with its options and its place in history.
///
/// Small on purpose (a Vigil server may hold millions): the range's key bytes are shared with the index where
/// possible. Every mutable field is guarded by the ``WatchHub`` lock.
public final class Watcher {
    /// The ID the client knows this watch by, unique on its stream.
    public let id: Int64
    /// The keys watched.
    public internal(set) var range: KeyRange
    /// Options fixed at creation.
    public let options: WatchOptions
    /// The stream this watch belongs to. The stream owns its watchers and outlives them.
    unowned let stream: HubStream

    /// Whether the watcher is caught up (in the hub's match index, receiving every new revision as it commits) or
    /// catching up from history, and from where.
    enum Progress: Equatable {
        /// Caught up: the next revision it needs is the hub's head + 1.
        case synced
        /// Behind: the next revision it needs is this one.
        case unsynced(next: Int64)
        /// Removed: nothing more is sent.
        case canceled
    }

    /// Guarded by the hub lock.
    var progress: Progress
    /// Position in its index bucket, for O(1) removal. Guarded by the hub lock.
    var slot = -1
    /// Whether events were queued for it since the last periodic progress tick. Guarded by the hub lock.
    var sentSinceTick = false

    init(id: Int64, range: KeyRange, options: WatchOptions, stream: HubStream, progress: Progress) {
        self.id = id
        self.range = range
        self.options = options
        self.stream = stream
        self.progress = progress
    }

    /// Whether this watcher wants `event` (its range was matched already): filters and the start revision.
    func wants(_ event: Event, at revision: Int64) -> Bool {
        if revision < options.startRevision { return false }
        switch event.kind {
        case .put: return !options.noPut
        case .delete: return !options.noDelete
        }
    }
}

/// What a client asked for when creating a watch, beyond its range.
public struct WatchOptions: Sendable, Hashable {
    /// The first revision whose events are wanted (0: from the next revision on).
    public var startRevision: Int64 = 0
    /// Drop PUT events.
    public var noPut = false
    /// Drop DELETE events.
    public var noDelete = false
    /// Send each event's previous key version.
    public var prevKV = false
    /// Split responses larger than the send limit into fragments.
    public var fragment = false
    /// Send periodic progress notifications.
    public var progressNotify = false

    public init() {}
}
