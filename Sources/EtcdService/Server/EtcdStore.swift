import EtcdProto
public import Lease
import MVCC
import Dispatch
import NIOConcurrencyHelpers
public import WatchHub

/// The one owner of the MVCC store and of everything that must change atomically with it. Every request runs under
/// its lock, so each sees and makes changes at one consistent revision; the committed events of each write are
/// handed to ``commitObserver`` before the lock is released (as etcd's watchable store notifies under `s.mu`).
public final class EtcdStore: @unchecked Sendable {
    /// Guards `store`; never held across I/O other than the backend's own commit.
    private let lock = NIOLock()
    /// The key space. Guarded by `lock`.
    private let store: KVStore
    /// etcd's request semantics over the store.
    private let applier: KVApplier
    /// What every response header carries.
    public let identity: ClusterIdentity
    /// Every lease. Guarded by `lock`.
    let lessor: Lessor
    /// Every watcher; told of each commit and compaction while the lock is held, so no watcher misses a
    /// revision or sees one twice.
    public private(set) var watchHub: WatchHub!

    public init(
        identity: ClusterIdentity, backend: any MVCCBackend = InMemoryBackend(),
        watchConfiguration: WatchHubConfiguration = WatchHubConfiguration()
    ) throws {
        self.identity = identity
        let store = try KVStore(backend: backend)
        self.store = store
        let lessor = Lessor(clock: { Int64(DispatchTime.now().uptimeNanoseconds) })
        self.lessor = lessor
        self.applier = KVApplier(identity: identity, leaseExists: { lessor.contains($0) })
        let history = StoreWatchHistory { [unowned self] range, maxBytes in
            try self.lock.withLock {
                try StoreWatchHistory.readRevisions(from: self.store, range: range, maxBytes: maxBytes)
            }
        }
        self.watchHub = WatchHub(
            currentRevision: store.currentRevision, compactRevision: store.compactRevision, history: history,
            encoder: WatchEventEncoding.encoder, configuration: watchConfiguration)
    }

    /// Runs `body` with exclusive access to the store.
    public func withLockedStore<T, Failure: Error>(_ body: (KVStore) throws(Failure) -> T) throws(Failure) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(store)
    }

    /// The current revision.
    public var currentRevision: Int64 { lock.withLock { store.currentRevision } }

    public func range(_ request: RangeRequest) throws(EtcdError) -> RangeResponse {
        try KVRequestValidation.check(request)
        return try locked { () throws(EtcdError) in try applier.range(request, in: store) }
    }

    public func put(_ request: PutRequest) throws(EtcdError) -> PutResponse {
        try KVRequestValidation.check(request)
        return try locked { () throws(EtcdError) in try publish(applier.put(request, in: store)) }
    }

    public func deleteRange(_ request: DeleteRangeRequest) throws(EtcdError) -> DeleteRangeResponse {
        try KVRequestValidation.check(request)
        return try locked { () throws(EtcdError) in try publish(applier.deleteRange(request, in: store)) }
    }

    public func txn(_ request: TxnRequest) throws(EtcdError) -> TxnResponse {
        try KVRequestValidation.check(request)
        return try locked { () throws(EtcdError) in try publish(applier.txn(request, in: store)) }
    }

    public func compact(_ request: CompactionRequest) throws(EtcdError) -> CompactionResponse {
        try locked { () throws(EtcdError) in
            let response = try applier.compact(request, in: store)
            watchHub.compacted(at: store.compactRevision)
            return response
        }
    }

    /// Keeps lease attachments in step with a write's events, hands the events to the watch hub (still under the
    /// lock) and returns the write's response.
    private func publish<Response>(_ result: (Response, [Event])) -> Response {
        let events = result.1
        guard !events.isEmpty else { return result.0 }
        for event in events {
            if let previous = event.prevKV, previous.lease != 0, event.kind == .delete || previous.lease != event.kv.lease {
                lessor.detach(event.kv.key, from: previous.lease)
            }
            if event.kind == .put && event.kv.lease != 0 {
                lessor.attach(event.kv.key, to: event.kv.lease)
            }
        }
        watchHub.publish(revision: store.currentRevision, events: events)
        return result.0
    }

    private func locked<T>(_ body: () throws(EtcdError) -> T) throws(EtcdError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
