public import MVCC
import NIOConcurrencyHelpers
import NIOCore

/// Every watcher of the server, on every stream, and the machinery that feeds them (etcd's `watchable_store`).
///
/// - **Synced** watchers sit in a ``WatcherIndex``; each committed revision is matched against it (a lookup per
///   event, not a scan of watchers) and the matching watchers' responses are queued on their streams with the event
///   bytes encoded once and shared.
/// - **Unsynced** watchers (a past start revision, or parked because their stream's queue was over budget) are
///   caught up by their stream, from the in-memory ``EventLog`` or from ``WatchHistory``, in size-bounded batches of
///   whole revisions, and join the synced set once they reach the head. Nothing is dropped: a watcher only falls
///   behind, and only compaction overtaking it cancels it.
/// - Each stream's queue is FIFO, so a created response precedes the watch's events, a cancel reply follows them,
///   and a progress reply is a valid bookmark for everything queued before it.
///
/// Thread-safe: one lock guards all state. ``publish(revision:events:)`` and ``compacted(at:)`` are called with the
/// store's lock held (store lock, then hub lock; never the reverse).
public final class WatchHub: @unchecked Sendable {
    private let lock = NIOLock()
    private let configuration: WatchHubConfiguration
    private let encoder: EventEncoder
    private let history: any WatchHistory

    /// The newest committed revision the hub has seen. Guarded by `lock`.
    private var head: Int64
    /// The store's compaction point (-1: never). Guarded by `lock`.
    private var compactRevision: Int64
    /// Recent revisions. Guarded by `lock`.
    private var log: EventLog
    /// Catch-up batches built for one watcher, reused by others resuming from the same revision. Guarded by `lock`.
    private var catchUpBatches: CatchUpBatchCache
    /// Caught-up watchers. Guarded by `lock`.
    let index = WatcherIndex()
    /// Streams with a progress request waiting for their watchers to catch up. Guarded by `lock`.
    private var progressWaiters: [ObjectIdentifier: HubStream] = [:]
    /// Every open stream, for compaction. Guarded by `lock`.
    private var streams: [ObjectIdentifier: HubStream] = [:]
    /// Watchers on all streams. Guarded by `lock`.
    private var watcherTotal = 0

    public init(
        currentRevision: Int64, compactRevision: Int64, history: any WatchHistory, encoder: @escaping EventEncoder,
        configuration: WatchHubConfiguration = WatchHubConfiguration()
    ) {
        self.head = currentRevision
        self.compactRevision = compactRevision
        self.history = history
        self.encoder = encoder
        self.configuration = configuration
        self.log = EventLog(maxBytes: configuration.logMaxBytes, maxEntries: configuration.logMaxEntries)
        self.catchUpBatches = CatchUpBatchCache(maxBytes: configuration.catchUpShareBytes)
    }

    // MARK: Streams

    public func openStream(sink: any WatchSink) -> HubStream {
        let stream = HubStream(
            sink: sink, mergeBacklog: configuration.mergeBacklog, mergeMaxBytes: configuration.catchUpBatchBytes)
        lock.withLock { streams[ObjectIdentifier(stream)] = stream }
        return stream
    }

    /// Removes every watcher of the stream and forgets it.
    public func closeStream(_ stream: HubStream) {
        lock.withLock {
            stream.watchers.forEach { retire($0) }
            stream.watchers.removeAll()
            stream.unsynced.removeAll()
            stream.compactedIDs.removeAll()
            stream.pending.removeAll()
            stream.pendingHead = 0
            stream.pendingBytes = 0
            stream.closed = true
            stream.sink = nil
            streams[ObjectIdentifier(stream)] = nil
            progressWaiters[ObjectIdentifier(stream)] = nil
        }
    }

    /// Takes the watcher out of the index and marks it canceled. Lock held.
    private func retire(_ watcher: Watcher) {
        if watcher.progress == .synced { index.remove(watcher) }
        watcher.progress = .canceled
        watcherTotal -= 1
    }

    // MARK: Requests from a stream

    /// Creates a watch (etcd's `WatchCreateRequest`), queuing its created response first.
    ///
    /// - Parameter requestedID: the client's ID, or 0 for one picked by the stream (from 0 up, skipping IDs in use).
    public func create(on stream: HubStream, requestedID: Int64, range: KeyRange, options: WatchOptions) {
        lock.withLock {
            guard !stream.closed else { return }
            defer { wake(stream) }
            if options.startRevision < 0 {
                stream.enqueue(.created(watchID: -1, revision: head, canceled: true,
                    reason: "etcdserver: mvcc: required revision has been compacted"))
                return
            }
            if range.isEmpty {
                stream.enqueue(.created(watchID: -1, revision: head, canceled: true, reason: "mvcc: watcher range is empty"))
                return
            }
            let id: Int64
            if requestedID != 0 {
                guard requestedID > 0, !stream.isTaken(requestedID) else {
                    stream.enqueue(.created(watchID: -1, revision: head, canceled: true,
                        reason: "mvcc: duplicate watch ID provided on the WatchStream"))
                    return
                }
                id = requestedID
            } else {
                while stream.isTaken(stream.nextAutoID) { stream.nextAutoID += 1 }
                id = stream.nextAutoID
                stream.nextAutoID += 1
            }
            stream.enqueue(.created(watchID: id, revision: head, canceled: false, reason: ""))
            let start = options.startRevision
            if start > 0 && start < compactRevision {
                // etcd: created, then canceled with the compaction revision.
                queueCompactionCancel(of: id, on: stream)
                return
            }
            let watcher: Watcher
            if start == 0 || start > head {
                watcher = Watcher(id: id, range: range, options: options, stream: stream, progress: .synced)
                index.insert(watcher, nextRevision: head + 1)
            } else {
                watcher = Watcher(id: id, range: range, options: options, stream: stream, progress: .unsynced(next: start))
                stream.unsynced.insert(watcher.id)
            }
            stream.watchers[id] = watcher
            watcherTotal += 1
        }
    }

    /// Cancels a watch; an unknown ID gets no reply (as in etcd). A watch that compaction canceled is still known
    /// until then, as in etcd: its cancel is answered like a live one's.
    public func cancel(on stream: HubStream, watchID: Int64) {
        lock.withLock {
            guard !stream.closed else { return }
            // A watch compaction canceled has no watcher left, only its ID.
            if stream.compactedIDs.remove(watchID) == nil {
                guard let watcher = stream.watchers.removeValue(forKey: watchID) else { return }
                stream.unsynced.remove(watcher.id)
                retire(watcher)
            }
            stream.enqueue(.canceled(watchID: watchID, revision: head, compactRevision: 0))
            if stream.progressRequested { answerProgressIfReady(stream) }
            wake(stream)
        }
    }

    /// A progress request: one `watch_id -1` reply at the head revision once every watcher on the stream is caught
    /// up — queued behind the events already queued, so it is a valid bookmark. Never lost: it waits for catch-up.
    public func requestProgress(on stream: HubStream) {
        lock.withLock {
            guard !stream.closed, !stream.watchers.isEmpty else { return }
            stream.progressRequested = true
            answerProgressIfReady(stream)
        }
    }

    /// Lock held.
    private func answerProgressIfReady(_ stream: HubStream) {
        let ready = stream.unsynced.isEmpty && !stream.watchers.contains { $0.startRevision > head }
        if ready {
            stream.progressRequested = false
            progressWaiters[ObjectIdentifier(stream)] = nil
            if !stream.watchers.isEmpty {
                stream.enqueue(.progress(watchID: -1, revision: head))
                wake(stream)
            }
        } else {
            progressWaiters[ObjectIdentifier(stream)] = stream
        }
    }

    /// A periodic tick: every progress-enabled, caught-up watcher of the stream that received nothing since the
    /// previous tick gets a notification at the head revision.
    public func progressTick(on stream: HubStream) {
        lock.withLock {
            guard !stream.closed else { return }
            var queued = false
            stream.watchers.forEach { watcher in
                guard watcher.wantsProgressNotify else { return }
                defer { watcher.sentSinceTick = false }
                guard watcher.progress == .synced, !watcher.sentSinceTick, head >= watcher.startRevision else { return }
                stream.enqueue(.progress(watchID: watcher.id, revision: head))
                queued = true
            }
            if queued { wake(stream) }
        }
    }

    // MARK: Commits and compaction (store lock held by the caller)

    /// A committed revision: match its events against the caught-up watchers and queue their responses.
    public func publish(revision: Int64, events: [Event]) {
        lock.withLock { publishLocked(revision: revision, events: events) }
    }

    /// Committed revisions, oldest first (those one group commit made durable), published under one acquisition
    /// of the lock: a stream's sink, draining on another thread, cannot take the queue between two of them, so a
    /// watcher's events of the whole group commit go out as one response (`HubStream.mergeShared`), and the
    /// sinks do not contend with the publisher once per revision.
    public func publish<Revisions: Sequence>(_ revisions: Revisions)
    where Revisions.Element == (revision: Int64, events: [Event]) {
        lock.withLock {
            for (revision, events) in revisions { publishLocked(revision: revision, events: events) }
        }
    }

    /// ``publish(revision:events:)`` with the lock held.
    private func publishLocked(revision: Int64, events: [Event]) {
        let entry = RevisionEntry(revision: revision, events: events)
        head = revision
        log.append(entry)
        guard index.count > 0 || !progressWaiters.isEmpty else { return }
        // Watchers whose stream is over budget; taken out of the index after matching, not during it.
        var parked: [Watcher] = []
        if events.count == 1 {
            // The common case: one event, whose encoded bytes every matching watcher shares. Matching watchers
            // are collected per stream, then queued as one delivery per stream.
            let event = events[0]
            var touched: [HubStream] = []
            func touch(_ stream: HubStream) {
                if stream.sharedRevision != revision {
                    stream.sharedRevision = revision
                    touched.append(stream)
                }
            }
            func collect(_ watcher: Watcher) {
                guard watcher.wants(event, at: revision) else { return }
                if watcher.wantsFragments {
                    // On its own: a shared response may grow by merging, and is never fragmented.
                    let bytes = entry.allBytes(prevKV: watcher.wantsPrevKV, encoder: encoder)
                    offer(bytes, at: revision, to: watcher, parking: &parked)
                    return
                }
                let stream = watcher.stream
                touch(stream)
                // Set for those the budget parks too: a parked watcher gets no progress notification, and
                // catching up sends it events again before it is synced.
                watcher.sentSinceTick = true
                if watcher.wantsPrevKV {
                    stream.sharedWithPrevKV.append(watcher.id)
                } else {
                    stream.sharedPlain.append(watcher.id)
                }
            }
            index.forEachMatchingBucket(event.kv.key, single: collect) { list in
                if let groups = list.streamGroups {
                    // Every member takes every event as it is: queue the cached groups, not each member.
                    for group in groups {
                        touch(group.stream)
                        group.stream.sharedPlain.append(contentsOf: group.plain)
                        group.stream.sharedWithPrevKV.append(contentsOf: group.withPrevKV)
                    }
                    return
                }
                var uniform = true
                for watcher in list.members {
                    collect(watcher)
                    if uniform && !watcher.takesEveryEvent(from: revision) { uniform = false }
                }
                if uniform {
                    list.publishesSinceChange += 1
                    if list.publishesSinceChange >= 2 { list.buildStreamGroups() }
                }
            }
            for stream in touched {
                offerShared(entry, prevKV: false, to: stream.sharedPlain, on: stream, parking: &parked)
                offerShared(entry, prevKV: true, to: stream.sharedWithPrevKV, on: stream, parking: &parked)
                stream.sharedPlain.removeAll(keepingCapacity: true)
                stream.sharedWithPrevKV.removeAll(keepingCapacity: true)
            }
        } else {
            // Matched event indices per watcher, in first-match order.
            var matched: [ObjectIdentifier: (watcher: Watcher, events: [Int])] = [:]
            var order: [ObjectIdentifier] = []
            for (position, event) in events.enumerated() {
                index.forEachMatch(event.kv.key) { watcher in
                    guard watcher.wants(event, at: revision) else { return }
                    let key = ObjectIdentifier(watcher)
                    if matched[key] == nil {
                        matched[key] = (watcher, [position])
                        order.append(key)
                    } else {
                        matched[key]!.events.append(position)
                    }
                }
            }
            for key in order {
                let (watcher, positions) = matched[key]!
                let bytes = positions.count == events.count
                    ? entry.allBytes(prevKV: watcher.wantsPrevKV, encoder: encoder)
                    : positions.map { entry.bytes($0, prevKV: watcher.wantsPrevKV, encoder: encoder) }
                offer(bytes, at: revision, to: watcher, parking: &parked)
            }
        }
        for watcher in parked {
            // The stream is not keeping up: park the watcher; it catches up from history later.
            index.remove(watcher)
            watcher.progress = .unsynced(next: revision)
            watcher.stream.unsynced.insert(watcher.id)
        }
        for stream in progressWaiters.values { answerProgressIfReady(stream) }
    }

    /// Queues the one event of `entry` for the watchers `ids` (synced, all of `stream`, in match order) as one
    /// `.shared` delivery, as far as the stream's budget allows; the watchers that do not fit go to `parked`,
    /// exactly as if each had been offered on its own. When the same watchers' shared delivery still waits at the
    /// tail of the queue, the revision joins it instead (`HubStream.mergeShared`). Lock held.
    private func offerShared(
        _ entry: RevisionEntry, prevKV: Bool, to ids: [Int64], on stream: HubStream, parking parked: inout [Watcher]
    ) {
        guard !ids.isEmpty else { return }
        let bytes = entry.allBytes(prevKV: prevKV, encoder: encoder)
        if ids.count == 1 {
            if let watcher = stream.watchers[ids[0]] { offer(bytes, at: entry.revision, to: watcher, parking: &parked) }
            return
        }
        // The same watchers' shared response still waiting at the tail takes this revision too.
        if stream.mergeShared(
            watchIDs: ids, revision: entry.revision, events: bytes, within: configuration.streamBudgetBytes)
        {
            wake(stream)
            return
        }
        // Offered one by one, the first fits an empty queue whatever its size; after that each needs room.
        let size = Delivery.eventsSize(bytes)
        let room = configuration.streamBudgetBytes - stream.pendingBytes
        let admitted = Swift.min(ids.count, Swift.max(room / size, stream.hasPending ? 0 : 1))
        if admitted == ids.count {
            stream.enqueue(.shared(watchIDs: ids, revision: entry.revision, events: bytes))
        } else {
            if admitted == 1 {
                stream.enqueue(.events(watchID: ids[0], revision: entry.revision, events: bytes, fragmentable: false))
            } else if admitted > 1 {
                stream.enqueue(.shared(watchIDs: Array(ids[..<admitted]), revision: entry.revision, events: bytes))
            }
            for id in ids[admitted...] {
                if let watcher = stream.watchers[id] { parked.append(watcher) }
            }
        }
        wake(stream)
    }

    /// Queues a synced watcher's events of `revision` on its stream, unless the stream is over its budget: then
    /// the watcher goes to `parked` (taken out of the index once matching is done). Lock held.
    private func offer(
        _ events: [[UInt8]], at revision: Int64, to watcher: Watcher, parking parked: inout [Watcher]
    ) {
        let stream = watcher.stream
        let delivery = Delivery.events(
            watchID: watcher.id, revision: revision, events: events, fragmentable: watcher.wantsFragments)
        defer { wake(stream) }
        if stream.pendingBytes + delivery.estimatedSize > configuration.streamBudgetBytes && stream.hasPending {
            parked.append(watcher)
            return
        }
        stream.enqueue(delivery)
        watcher.sentSinceTick = true
    }

    /// The store compacted at `revision`: watchers still needing anything older are canceled with it.
    public func compacted(at revision: Int64) {
        lock.withLock {
            compactRevision = revision
            // Only watchers that are behind can need history below the new point: look at those alone.
            for stream in streams.values where !stream.unsynced.isEmpty {
                for id in stream.unsynced {
                    guard let watcher = stream.watchers[id], case .unsynced(let next) = watcher.progress,
                        next < revision
                    else { continue }
                    cancelCompacted(watcher)
                }
            }
        }
    }

    /// Lock held.
    private func cancelCompacted(_ watcher: Watcher) {
        let stream = watcher.stream
        stream.watchers[watcher.id] = nil
        stream.unsynced.remove(watcher.id)
        retire(watcher)
        queueCompactionCancel(of: watcher.id, on: stream)
        if stream.progressRequested { answerProgressIfReady(stream) }
        wake(stream)
    }

    /// Queues the compaction cancel of watch `id` (header revision 0, as etcd sends it) and keeps the ID taken
    /// until the client cancels it, as etcd does. Control responses ignore the budget: a compaction cancel is never
    /// dropped. Lock held.
    private func queueCompactionCancel(of id: Int64, on stream: HubStream) {
        stream.enqueue(.canceled(watchID: id, revision: 0, compactRevision: compactRevision))
        stream.compactedIDs.insert(id)
    }

    // MARK: Draining and catching up (called by the stream's sink, on its own thread)

    /// Takes up to `max` queued responses, oldest first.
    public func take(from stream: HubStream, max: Int) -> [Delivery] {
        lock.withLock {
            stream.wakePending = false
            return stream.take(max: max)
        }
    }

    /// Whether the stream has watchers to catch up.
    public func needsCatchUp(_ stream: HubStream) -> Bool {
        lock.withLock { !stream.closed && !stream.unsynced.isEmpty }
    }

    /// Catches up one unsynced watcher of the stream by one batch. Returns false when there was nothing to do.
    @discardableResult
    public func catchUp(_ stream: HubStream) throws -> Bool {
        enum Step {
            case none
            case done
            case read(Watcher, next: Int64, through: Int64)
        }
        let step: Step = lock.withLock {
            guard !stream.closed, let id = stream.unsynced.first, let watcher = stream.watchers[id],
                case .unsynced(let next) = watcher.progress
            else { return .none }
            if next < compactRevision {
                cancelCompacted(watcher)
                return .done
            }
            if next > head {
                promote(watcher)
                return .done
            }
            if let entries = log.entries(from: next, through: head) {
                deliverBatch(to: watcher, next: next, from: entries, coveredThrough: head)
                return .done
            }
            return .read(watcher, next: next, through: head)
        }
        switch step {
        case .none:
            return false
        case .done:
            return true
        case .read(let watcher, let next, let through):
            let read = try history.revisions(in: next...through, maxBytes: configuration.catchUpBatchBytes)
            lock.withLock {
                guard case .unsynced(let current) = watcher.progress, current == next else { return }
                if next < compactRevision {
                    cancelCompacted(watcher)
                    return
                }
                let entries = read.revisions.map { RevisionEntry(revision: $0.0, events: $0.1) }
                deliverBatch(to: watcher, next: next, from: entries[...], coveredThrough: read.through)
            }
            return true
        }
    }

    /// Queues one catch-up response for `watcher`, which needs revisions from `next` on, from `entries` (whole
    /// revisions, oldest first, together covering every revision from `next` through `coveredThrough`), stopping
    /// after the batch size at a revision boundary, and advances the watcher; promotes it once it reaches the head.
    /// The response is the part from `next` on of a batch shared by every watcher of the same keys and wants
    /// (``CatchUpBatchCache``), extended first when it ends too soon. Lock held.
    private func deliverBatch(
        to watcher: Watcher, next: Int64, from entries: ArraySlice<RevisionEntry>, coveredThrough: Int64
    ) {
        // Fragmenting needs each event's bounds. A watcher never resumes below its start revision (where wants would
        // differ by start revision); the check keeps sharing correct should that change.
        guard !watcher.wantsFragments && next >= watcher.startRevision else {
            deliverOwnBatch(to: watcher, next: next, from: entries, coveredThrough: coveredThrough)
            return
        }
        let limit = configuration.catchUpBatchBytes
        let key = CatchUpBatchCache.Key(range: watcher.range, wants: watcher.eventChoice)
        var batch = catchUpBatches.batch(for: key, serving: next) ?? CatchUpBatchCache.Batch(first: next)
        let waiting = batch.size - batch.offset(from: next)
        if waiting < limit && batch.through < coveredThrough {
            // Extend the batch (or build it) from the entries after it, until this watcher's part is full.
            let gathered = gather(
                for: watcher, from: entries, after: batch.through, used: waiting, offsetsFrom: batch.size,
                coveredThrough: coveredThrough)
            // Joined once into a buffer the transport sends as it is (sliced) to every watcher that takes it.
            var joined = Self.allocator.buffer(capacity: gathered.size)
            for piece in gathered.events { joined.writeBytes(piece) }
            batch.append(joined, marks: gathered.marks, through: gathered.through)
            catchUpBatches.insert(batch, for: key)
        }
        let (pieces, through) = batch.suffix(from: next, maxBytes: limit)
        if !pieces.isEmpty {
            watcher.stream.enqueue(.batch(watchID: watcher.id, revision: head, pieces: pieces))
            watcher.sentSinceTick = true
        }
        advance(watcher, through: through)
    }

    /// ``deliverBatch(to:next:from:coveredThrough:)`` for a watcher that asked for fragments: its own events, one
    /// array each (fragmenting needs their bounds). Lock held.
    private func deliverOwnBatch(
        to watcher: Watcher, next: Int64, from entries: ArraySlice<RevisionEntry>, coveredThrough: Int64
    ) {
        let gathered = gather(
            for: watcher, from: entries, after: next - 1, used: 0, offsetsFrom: 0, coveredThrough: coveredThrough)
        if !gathered.events.isEmpty {
            watcher.stream.enqueue(.events(
                watchID: watcher.id, revision: head, events: gathered.events, fragmentable: watcher.wantsFragments))
            watcher.sentSinceTick = true
        }
        advance(watcher, through: gathered.through)
    }

    /// The events `watcher` wants of the `entries` after revision `after`, in order, taken whole revision by whole
    /// revision until `used` plus their bytes reach the catch-up batch size: their bytes, their size, where each
    /// revision's events start (counted from `offsetsFrom`), and the last revision they cover (`coveredThrough` when
    /// the entries ran out first). Lock held.
    private func gather(
        for watcher: Watcher, from entries: ArraySlice<RevisionEntry>, after: Int64, used: Int, offsetsFrom base: Int,
        coveredThrough: Int64
    ) -> (events: [[UInt8]], size: Int, marks: [(revision: Int64, offset: Int)], through: Int64) {
        var events: [[UInt8]] = []
        var marks: [(revision: Int64, offset: Int)] = []
        var size = 0
        // Entries are in revision order: start right after `after`.
        for position in entries.firstIndex(revisionAbove: after)..<entries.endIndex {
            if used + size >= configuration.catchUpBatchBytes {
                return (events, size, marks, entries[position - 1].revision)
            }
            let added = entries[position].appendMatches(in: watcher.range, for: watcher, encoder: encoder, to: &events)
            if added > 0 { marks.append((entries[position].revision, base + size)) }
            size += added
        }
        return (events, size, marks, coveredThrough)
    }

    /// A catch-up response covering revisions through `through` is queued for `watcher`: it is caught up, or goes
    /// on from the next revision. Lock held.
    private func advance(_ watcher: Watcher, through: Int64) {
        if through >= head {
            promote(watcher)
        } else {
            watcher.progress = .unsynced(next: through + 1)
        }
        wake(watcher.stream)
    }

    /// Allocates the shared catch-up buffers.
    private static let allocator = ByteBufferAllocator()

    /// Lock held.
    private func promote(_ watcher: Watcher) {
        let stream = watcher.stream
        watcher.progress = .synced
        stream.unsynced.remove(watcher.id)
        index.insert(watcher, nextRevision: head + 1)
        if stream.progressRequested { answerProgressIfReady(stream) }
    }

    /// Lock held.
    private func wake(_ stream: HubStream) {
        guard !stream.wakePending, let sink = stream.sink else { return }
        stream.wakePending = true
        sink.wake()
    }

    // MARK: Introspection

    /// Watchers on all streams.
    public var watcherCount: Int { lock.withLock { watcherTotal } }
    /// Watchers in the match index (caught up).
    public var syncedCount: Int { lock.withLock { index.count } }
    /// Open streams.
    public var streamCount: Int { lock.withLock { streams.count } }
}
