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
    /// The first revision whose events are wanted (0: from the next revision on).
    let startRevision: Int64
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

    /// The next revision an unsynced watcher needs. Guarded by the hub lock.
    private var nextRevision: Int64 = 0
    /// Position in its index bucket, for O(1) removal; -1 when not indexed. Guarded by the hub lock.
    var slot: Int32 = -1
    /// 0 synced, 1 unsynced, 2 canceled. Guarded by the hub lock.
    private var state: UInt8
    /// The creation options (bits 0–4) and whether events were queued since the last progress tick (bit 7).
    /// Packed so that a watcher stays within one small allocation. Guarded by the hub lock.
    private var flags: UInt8

    private static let noPutBit: UInt8 = 1 << 0
    private static let noDeleteBit: UInt8 = 1 << 1
    private static let prevKVBit: UInt8 = 1 << 2
    private static let fragmentBit: UInt8 = 1 << 3
    private static let progressNotifyBit: UInt8 = 1 << 4
    private static let sentSinceTickBit: UInt8 = 1 << 7

    init(id: Int64, range: KeyRange, options: WatchOptions, stream: HubStream, progress: Progress) {
        self.id = id
        self.range = range
        self.startRevision = options.startRevision
        self.stream = stream
        var flags: UInt8 = 0
        if options.noPut { flags |= Self.noPutBit }
        if options.noDelete { flags |= Self.noDeleteBit }
        if options.prevKV { flags |= Self.prevKVBit }
        if options.fragment { flags |= Self.fragmentBit }
        if options.progressNotify { flags |= Self.progressNotifyBit }
        self.flags = flags
        self.state = 0
        self.progress = progress
    }

    /// Guarded by the hub lock.
    var progress: Progress {
        get {
            switch state {
            case 0: .synced
            case 1: .unsynced(next: nextRevision)
            default: .canceled
            }
        }
        set {
            switch newValue {
            case .synced: state = 0
            case .unsynced(let next):
                state = 1
                nextRevision = next
            case .canceled: state = 2
            }
        }
    }

    var wantsPrevKV: Bool { flags & Self.prevKVBit != 0 }
    /// The options that decide which events, and in which form, it receives once past its start revision: two
    /// watchers of one range with equal `eventChoice` receive the same bytes.
    var eventChoice: UInt8 { flags & (Self.noPutBit | Self.noDeleteBit | Self.prevKVBit) }
    var wantsFragments: Bool { flags & Self.fragmentBit != 0 }
    var wantsProgressNotify: Bool { flags & Self.progressNotifyBit != 0 }

    /// Whether events were queued for it since the last periodic progress tick. Guarded by the hub lock.
    var sentSinceTick: Bool {
        get { flags & Self.sentSinceTickBit != 0 }
        set { if newValue { flags |= Self.sentSinceTickBit } else { flags &= ~Self.sentSinceTickBit } }
    }

    /// Whether, from `revision` on, it takes every event of its range as it is, in shared responses, with nothing
    /// to note per event: no filter, no fragments, no progress notifications (which need `sentSinceTick`), and its
    /// start revision reached. Such watchers can be served from a list's cached ``StreamGroup``s.
    func takesEveryEvent(from revision: Int64) -> Bool {
        revision >= startRevision
            && flags & (Self.noPutBit | Self.noDeleteBit | Self.fragmentBit | Self.progressNotifyBit) == 0
    }

    /// Whether this watcher wants `event` (its range was matched already): filters and the start revision.
    func wants(_ event: Event, at revision: Int64) -> Bool {
        if revision < startRevision { return false }
        switch event.kind {
        case .put: return flags & Self.noPutBit == 0
        case .delete: return flags & Self.noDeleteBit == 0
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
