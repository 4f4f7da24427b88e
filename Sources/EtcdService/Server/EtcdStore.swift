import Dispatch
import EtcdProto
public import Lease
public import MVCC
import NIOConcurrencyHelpers
public import WatchHub

/// The one owner of the MVCC store and of everything that must change atomically with it: leases, the watch hub,
/// and durability bookkeeping. Every request runs under its lock, so each sees and makes changes at one
/// consistent revision.
///
/// **Durability.** With a backend that stages commits (SQLite), a write is applied in memory under the lock, and
/// its reply, its watch events and its visibility to reads all wait until the ``GroupCommitter`` has flushed it:
/// reads see the durable revision, watchers hear only of durable revisions, and a client is told "done" only
/// once its change is synced. Concurrent writes share one flush (group commit). With the in-memory backend all
/// three happen at once.
public final class EtcdStore: @unchecked Sendable {
    /// Guards everything below that says so; never held across the backend's flush.
    let lock = NIOLock()
    /// The key space. Guarded by `lock`.
    let store: KVStore
    /// etcd's request semantics over the store.
    let applier: KVApplier
    /// What every response header carries.
    public let identity: ClusterIdentity
    /// Every lease. Guarded by `lock`.
    let lessor: Lessor
    /// Where lease changes are made durable, if anywhere.
    let leaseJournal: (any LeaseJournal)?
    /// Every watcher; told of each durable revision and of compactions while the lock is held, so no watcher
    /// misses a revision or sees one twice.
    public private(set) var watchHub: WatchHub!
    /// Flushes a staging backend; nil for a backend that is durable at once.
    private(set) var committer: GroupCommitter?
    /// The store's backend, for the calls it allows from any thread without the lock (snapshots).
    let backend: any MVCCBackend

    /// The newest revision that is durable (and so visible to reads and watchers). Guarded by `lock`.
    var durableRevision: Int64
    /// Number of changes staged with the backend so far. Guarded by `lock`.
    var stagedSequence: Int64 = 0
    /// Writes applied but not yet durable, oldest first, with their events. Guarded by `lock`.
    var notDurable: [(sequence: Int64, revision: Int64, events: [Event])] = []
    /// `--quota-backend-bytes`: above this many stored bytes, writes that add data are refused (0: no quota).
    public var quotaBytes: Int = 0
    /// `--max-txn-ops`: the most compares, or operations of a branch, a transaction may hold. Set before serving.
    public var maxTxnOps = KVRequestValidation.defaultMaxTxnOps
    /// Set while someone (a writer leading a flush, or the committer thread) flushes the backend; only one may.
    /// Guarded by `lock`.
    var flushInProgress = false
    /// Raised alarms (`Maintenance.Alarm`), oldest first. Guarded by `lock`.
    var alarms: [AlarmMember] = []
    /// Replies waiting for a flush, by the sequence number they need, oldest first. Guarded by `lock`.
    var waiters: [PendingReply] = []
    /// Replies of physical compactions, waiting until a flush has deleted every row compaction dropped (etcd answers
    /// a physical compaction once the compacted entries are gone from its backend). Guarded by `lock`.
    var compactionWaiters: [PendingReply] = []

    public init(
        identity: ClusterIdentity, backend: any MVCCBackend = InMemoryBackend(), leaseJournal: (any LeaseJournal)? = nil,
        storedLeases: [(id: Int64, ttl: Int64)] = [], watchConfiguration: WatchHubConfiguration = WatchHubConfiguration()
    ) throws {
        self.identity = identity
        self.backend = backend
        let store = try KVStore(backend: backend)
        self.store = store
        let lessor = Lessor(clock: { Int64(DispatchTime.now().uptimeNanoseconds) })
        self.lessor = lessor
        self.leaseJournal = leaseJournal
        self.applier = KVApplier(identity: identity, leaseExists: { lessor.contains($0) })
        self.durableRevision = store.currentRevision
        // After a restart every stored lease gets its full TTL again (as etcd does without checkpoints), and the
        // keys that name it are attached to it.
        for lease in storedLeases { _ = try? lessor.grant(id: lease.id, ttl: lease.ttl) }
        if !storedLeases.isEmpty {
            for kv in try store.range(KeyRange(key: [0], rangeEnd: [0])).kvs where kv.lease != 0 {
                lessor.attach(kv.key, to: kv.lease)
            }
        }
        let history = StoreWatchHistory { [unowned self] range, maxBytes in
            try self.lock.withLock {
                try StoreWatchHistory.readRevisions(from: self.store, range: range, maxBytes: maxBytes)
            }
        }
        self.watchHub = WatchHub(
            currentRevision: store.currentRevision, compactRevision: store.compactRevision, history: history,
            encoder: WatchEventEncoding.encoder, configuration: watchConfiguration)
        if backend.needsFlush {
            committer = GroupCommitter(store: self, backend: backend)
            // Deletes left by a compaction that a stop interrupted go now, not with the first write.
            if backend.hasStagedWork { committer?.signal() }
        }
    }

    /// Stops the committer after a last flush (graceful shutdown).
    public func close() {
        committer?.stop()
    }

    /// Runs `body` with exclusive access to the store.
    public func withLockedStore<T, Failure: Error>(_ body: (KVStore) throws(Failure) -> T) throws(Failure) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(store)
    }

    /// The newest durable revision (what reads see).
    public var currentRevision: Int64 { lock.withLock { durableRevision } }

    // MARK: KV

    /// Records a read loads per hold of the lock: a read of more lets writers in between parts (a read of 50,000
    /// keys held the lock ~100 ms, and every write on every loop waited for it).
    static let rangeRecordsPerPart = 1_000

    /// Where reads of more than one part load their records and build their answers, off the event loops: a read
    /// of 50,000 keys kept its loop, and every call on that loop's connections, ~100 ms.
    private static let readQueue = DispatchQueue(label: "vigil.range", attributes: .concurrent)

    /// `Range`, answered on the calling thread.
    public func range(_ request: RangeRequest) throws(EtcdError) -> RangeResponse {
        switch try startRange(request) {
        case .answered(let response): return response
        case .inParts(let plan, let revision): return try finishRange(request, plan, at: revision)
        }
    }

    /// `Range` for a call on an event loop: a read of one part is answered at once, on this thread; a larger one
    /// loads its records and builds its answer off the loop, then `reply` runs on that thread.
    public func range(_ request: RangeRequest, reply: @escaping @Sendable (Result<RangeResponse, EtcdError>) -> Void) {
        let started: RangeStart
        do {
            started = try startRange(request)
        } catch {
            reply(.failure(error))
            return
        }
        switch started {
        case .answered(let response):
            reply(.success(response))
        case .inParts(let plan, let revision):
            Self.readQueue.async {
                do throws(EtcdError) {
                    reply(.success(try self.finishRange(request, plan, at: revision)))
                } catch {
                    reply(.failure(error))
                }
            }
        }
    }

    /// How a read began: answered in one hold of the lock, or planned and pinned, its records still to load.
    private enum RangeStart {
        case answered(RangeResponse)
        case inParts(RangePlan, revision: Int64)
    }

    /// The keys and revisions of a read come from the index in one hold of the lock; a read of at most
    /// ``rangeRecordsPerPart`` records is answered in that same hold, a larger one is pinned
    /// (``KVStore/pinRead()``) so that a compaction meanwhile keeps the records it still needs.
    private func startRange(_ request: RangeRequest) throws(EtcdError) -> RangeStart {
        try KVRequestValidation.check(request)
        lock.lock()
        defer { lock.unlock() }
        let revision = durableRevision
        let plan = try applier.planRange(request, in: store, at: revision)
        if plan.revisions.count > Self.rangeRecordsPerPart {
            store.pinRead()
            return .inParts(plan, revision: revision)
        }
        do {
            return .answered(applier.rangeResponse(plan.result(try store.load(plan.revisions[...])), request: request, revision: revision))
        } catch {
            throw EtcdError(error)
        }
    }

    /// Loads a pinned read's records in parts of ``rangeRecordsPerPart``, each its own hold of the lock, then
    /// unpins it. Records never change once written, so the parts make one answer as of `revision`, however many
    /// writes come between them.
    private func finishRange(_ request: RangeRequest, _ plan: RangePlan, at revision: Int64) throws(EtcdError) -> RangeResponse {
        let records = plan.revisions
        var loaded: [KeyValue] = []
        loaded.reserveCapacity(records.count)
        var failure: MVCCError?
        var start = 0
        while start < records.count && failure == nil {
            let end = min(start + Self.rangeRecordsPerPart, records.count)
            lock.lock()
            do {
                loaded += try store.load(records[start..<end])
            } catch {
                failure = error
            }
            lock.unlock()
            start = end
        }
        do {
            try endPinnedRead()
        } catch {
            failure = failure ?? error
        }
        if let failure { throw EtcdError(failure) }
        return applier.rangeResponse(plan.result(loaded), request: request, revision: revision)
    }

    /// Unpins a read (``KVStore/unpinRead()``); compactions made meanwhile then hand their dropped records to the
    /// backend, and the committer thread's flushes delete them.
    func endPinnedRead() throws(MVCCError) {
        lock.lock()
        defer { lock.unlock() }
        if try store.unpinRead() { committer?.signal() }
    }

    /// etcd's NOSPACE: once the store holds more than the quota, the NOSPACE alarm is raised and writes that add
    /// data fail until an operator clears it (`etcdctl alarm disarm`, after compacting; deletes and compaction still
    /// work meanwhile). While the disk is full they fail too, without an alarm, until a flush succeeds again (the
    /// writes already waiting then go through). Lock held.
    func checkQuota() throws(EtcdError) {
        if isNoSpaceRaised { throw .noSpace }
        if quotaBytes > 0 && store.estimatedSize > quotaBytes {
            // The running estimate does not see what deletes and compaction freed: measure before refusing.
            store.remeasureSize()
            if store.estimatedSize > quotaBytes {
                raiseNoSpace()
                throw .noSpace
            }
        }
        if committer?.isOutOfSpace == true { throw .noSpace }
    }

    public func put(_ request: PutRequest, reply: @escaping @Sendable (Result<PutResponse, EtcdError>) -> Void) {
        write(reply) { () throws(EtcdError) in
            try KVRequestValidation.check(request)
            try checkQuota()
            return try applier.put(request, in: store)
        }
    }

    public func deleteRange(
        _ request: DeleteRangeRequest, reply: @escaping @Sendable (Result<DeleteRangeResponse, EtcdError>) -> Void
    ) {
        write(reply) { () throws(EtcdError) in
            try KVRequestValidation.check(request)
            return try applier.deleteRange(request, in: store)
        }
    }

    public func txn(_ request: TxnRequest, reply: @escaping @Sendable (Result<TxnResponse, EtcdError>) -> Void) {
        write(reply) { () throws(EtcdError) in
            try KVRequestValidation.check(request, maxOps: maxTxnOps)
            if request.success.contains(where: { if case .put = $0 { true } else { false } })
                || request.failure.contains(where: { if case .put = $0 { true } else { false } })
            {
                try checkQuota()
            }
            return try applier.txn(request, in: store)
        }
    }

    public func compact(
        _ request: CompactionRequest, reply: @escaping @Sendable (Result<CompactionResponse, EtcdError>) -> Void
    ) {
        lock.lock()
        let response: CompactionResponse
        do throws(EtcdError) {
            // Only durable history may be compacted.
            if request.revision > durableRevision { throw EtcdError.futureRevision }
            var compacted = try applier.compact(request, in: store)
            // Report the revision reads see, not a newer one still waiting for its flush.
            compacted.header = identity.header(revision: durableRevision)
            response = compacted
        } catch {
            lock.unlock()
            reply(.failure(error))
            return
        }
        watchHub.compacted(at: store.compactRevision)
        let mustWait = committer != nil && request.physical
        if mustWait {
            compactionWaiters.append(PendingReply(sequence: stagedSequence) { reply(.success(response)) })
            committer!.signal()
        }
        lock.unlock()
        if !mustWait { reply(.success(response)) }
    }

    /// Applies a write under the lock, then replies once it is durable.
    func write<Response: Sendable>(
        _ reply: @escaping @Sendable (Result<Response, EtcdError>) -> Void,
        _ body: () throws(EtcdError) -> (Response, [Event])
    ) {
        lock.lock()
        let result: (Response, [Event])
        do throws(EtcdError) {
            result = try body()
        } catch {
            lock.unlock()
            reply(.failure(error))
            return
        }
        let next = committed(events: result.1) { reply(.success(result.0)) }
        lock.unlock()
        next?()
    }

    /// Bookkeeping after a write under the lock: lease attachments follow the write's events; then either the write
    /// is durable already (the events go to watchers now), or it waits for a flush. Returns what the caller must
    /// run after unlocking: the reply itself, or — when no flush is running — a flush led by this writer (group
    /// commit without a thread hop: a lone writer syncs on its own thread and answers at once; writers arriving
    /// meanwhile wait and go together in the next flush). Nil when a later flush will reply. Lock held.
    func committed(events: [Event], reply: @escaping @Sendable () -> Void) -> (@Sendable () -> Void)? {
        for event in events {
            if let previous = event.prevKV, previous.lease != 0, event.kind == .delete || previous.lease != event.kv.lease {
                lessor.detach(event.kv.key, from: previous.lease)
            }
            if event.kind == .put && event.kv.lease != 0 {
                lessor.attach(event.kv.key, to: event.kv.lease)
            }
        }
        guard committer != nil else {
            if !events.isEmpty {
                durableRevision = store.currentRevision
                watchHub.publish(revision: store.currentRevision, events: events)
            }
            return reply
        }
        if !events.isEmpty {
            stagedSequence += 1
            notDurable.append((stagedSequence, store.currentRevision, events))
        }
        waiters.append(PendingReply(sequence: stagedSequence, reply: reply))
        // A flush is running: it takes this write in its next round when it finishes (no wake-up needed).
        if flushInProgress { return nil }
        // Lead only a lone write: with others already waiting, the committer thread batches them all, and no
        // event loop is held up by a sync. After a failed flush the committer retries, with back-off.
        if waiters.count > 1 || committer!.isRetrying {
            committer!.signal()
            return nil
        }
        flushInProgress = true
        let committer = committer!
        return { committer.leadFlushSoon() }
    }

    /// Queues `reply` to run once everything staged so far is durable (the committer thread flushes). Lock held;
    /// with no committer, runs it now.
    func waitForFlush(_ reply: @escaping @Sendable () -> Void) {
        guard let committer else {
            reply()
            return
        }
        waiters.append(PendingReply(sequence: stagedSequence, reply: reply))
        committer.signal()
    }

    /// Records that a lease change was staged with the backend. Lock held.
    func stagedLeaseChange() {
        if committer != nil { stagedSequence += 1 }
    }

    /// Called by the committer after a flush covered every change up to `sequence` (the store's revision then
    /// being `revision`): makes it visible, tells watchers, and returns the replies now due. Lock held.
    func flushed(through sequence: Int64) -> DueReplies {
        var index = 0
        while index < notDurable.count && notDurable[index].sequence <= sequence { index += 1 }
        if index > 0 {
            durableRevision = notDurable[index - 1].revision
            watchHub.publish(notDurable[..<index].lazy.map { (revision: $0.revision, events: $0.events) })
            notDurable.removeFirst(index)
        }
        // Waiters are in staging order, so the due ones are a prefix.
        var due = DueReplies()
        var count = 0
        while count < waiters.count && waiters[count].sequence <= sequence {
            due.append(waiters[count])
            count += 1
        }
        waiters.removeFirst(count)
        if !compactionWaiters.isEmpty && !store.compactionPending {
            let ready = compactionWaiters.filter { $0.sequence <= sequence }
            compactionWaiters.removeAll { $0.sequence <= sequence }
            for waiter in ready { due.append(waiter) }
        }
        return due
    }
}
