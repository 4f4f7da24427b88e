import Foundation
import Logging
import MVCC
import NIOCore
import NIOPosix

/// Makes staged writes durable: a flush writes everything staged in one backend transaction and sync, then publishes
/// and acknowledges every write it covered. While one flush syncs, new writes pile up and go together in the next
/// (group commit): throughput grows with concurrency while each write waits for about one sync. Whoever holds the
/// right to flush (`EtcdStore.flushInProgress`) flushes: a lone write's event loop, the event loop a finished flush
/// handed the right to (``handOver(after:)``), or this type's own thread, which also checkpoints, defragments, and
/// flushes writes made off any loop and retries failed flushes.
final class GroupCommitter: @unchecked Sendable {
    private unowned let store: EtcdStore
    private let backend: any MVCCBackend
    private let condition = NSCondition()
    /// Set by `signal()`, cleared when the loop takes the work. Guarded by `condition`.
    private var hasWork = false
    /// Cleared by `stop()`. Guarded by `condition`.
    private var running = true
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)
    private let logger = Logger(label: "vigil.commit")
    /// Flush statistics for the debug log. Guarded by `condition`.
    private var flushCount: UInt64 = 0
    private var flushNanoseconds: UInt64 = 0

    init(store: EtcdStore, backend: any MVCCBackend) {
        self.store = store
        self.backend = backend
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "vigil-group-commit"
        self.thread = thread
        thread.start()
    }

    /// There is staged work.
    func signal() {
        condition.lock()
        hasWork = true
        condition.signal()
        condition.unlock()
    }

    /// Callers waiting for a defragmentation this thread has not run yet. Guarded by `condition`.
    private var defragmentWaiters: [@Sendable (Result<Void, MVCCError>) -> Void] = []

    /// Defragments the backend on this thread, between flushes, then calls `done` (on this thread). Writes that
    /// arrive meanwhile are staged and flushed after it, as etcd holds writes while it defragments.
    func defragment(then done: @escaping @Sendable (Result<Void, MVCCError>) -> Void) {
        condition.lock()
        defragmentWaiters.append(done)
        hasWork = true
        condition.signal()
        condition.unlock()
    }

    /// Runs the defragmentation asked for, if any, once a compaction's deletes are done and it holds the right to
    /// flush; otherwise asks to come back (a writer leading a flush does not signal when it ends). One run answers
    /// everyone who asked before it started. Committer thread only.
    private func defragmentIfAsked() {
        let waiting = condition.withLock { () -> [@Sendable (Result<Void, MVCCError>) -> Void] in
            defer { defragmentWaiters.removeAll() }
            return defragmentWaiters
        }
        guard !waiting.isEmpty else { return }
        // After a compaction, its rows go first (a batch per flush, each round of this loop): the rebuild then
        // gives back what the compaction freed.
        guard !backend.compactionPending else {
            condition.withLock {
                defragmentWaiters.insert(contentsOf: waiting, at: 0)
                hasWork = true
            }
            return
        }
        guard takeFlushRight() else {
            condition.withLock {
                defragmentWaiters.insert(contentsOf: waiting, at: 0)
                hasWork = true
            }
            Thread.sleep(forTimeInterval: 0.001)
            return
        }
        let started = DispatchTime.now().uptimeNanoseconds
        let result: Result<Void, MVCCError>
        do throws(MVCCError) {
            try backend.defragment()
            result = .success(())
        } catch {
            result = .failure(error)
        }
        releaseFlushRight()
        let milliseconds = (DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
        switch result {
        case .success: logger.info("defragmented the data directory", metadata: ["took_ms": "\(milliseconds)"])
        case .failure(let error): logger.error("defragmenting the data directory failed", metadata: ["error": "\(error)"])
        }
        for done in waiting { done(result) }
    }

    /// Flushes what is left and ends the thread.
    func stop() {
        condition.lock()
        running = false
        condition.signal()
        condition.unlock()
        finished.wait()
    }

    /// A flush led by a writer (it set `flushInProgress`). On an event loop, the flush runs once the loop has
    /// handled what it already read: writes pipelined on one connection arrive in one read, and are all staged
    /// before the sync instead of each waiting for a sync of its own. Elsewhere it runs now.
    func leadFlushSoon() {
        if let loop = MultiThreadedEventLoopGroup.currentEventLoop {
            loop.execute { self.leadFlush() }
        } else {
            leadFlush()
        }
    }

    /// A flush on an event loop that holds the right to flush (a lone writer set `flushInProgress`, or a flush
    /// before handed the right over): sync, answer the writes it covered that were made on this loop and queue the
    /// others' replies on their loops, then pass the right on.
    func leadFlush() {
        guard let (due, target) = flushOnce() else { return }
        due.run()
        if !handOver(after: target), let loop = MultiThreadedEventLoopGroup.currentEventLoop {
            loop.execute { self.prepareNextFlush() }
        }
    }

    /// Set by a leader that took the right to flush for the committer thread to checkpoint with; that thread
    /// checkpoints and releases it. Guarded by `condition`.
    private var checkpointHandedOver = false

    /// Prepares the next flush (``MVCCBackend/prepareNextFlush()``) unless someone is flushing. Queued by a led
    /// flush behind the connection's output, it runs once the replies are written, while the client turns round to
    /// send its next write: a lone writer's next flush starts with its transaction already open (put-1: the
    /// `BEGIN`'s lock calls, ~5 µs, left the path between request and sync).
    private func prepareNextFlush() {
        guard takeFlushRight() else { return }
        // Read with the right held: the committer's stop ends a prepared transaction while holding it, so none
        // is opened after that.
        if condition.withLock({ running }) { backend.prepareNextFlush() }
        releaseFlushRight()
    }

    /// Gives up the right to flush after work that was not a flush (a preparation, a checkpoint). Writes that
    /// arrived meanwhile saw a flush running and left their turn to it: the committer takes them.
    private func releaseFlushRight() {
        let pending = store.lock.withLock { () -> Bool in
            store.flushInProgress = false
            return !store.waiters.isEmpty
        }
        if pending { signal() }
    }

    /// One flush by whoever holds `flushInProgress`. Returns the replies now due and the staged sequence number
    /// the flush covered, still holding the right to flush: the caller runs the replies, then passes the right on
    /// with ``handOver(after:)``. On failure nothing is acknowledged, the right is released, the committer thread
    /// retries, and the result is nil.
    private func flushOnce() -> (DueReplies, Int64)? {
        // Everything staged up to this sequence number is handed to this flush.
        let target = store.lock.withLock { store.stagedSequence }
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            _ = try backend.flush()
        } catch {
            logger.error("flushing to the data directory failed; retrying", metadata: ["error": "\(error)"])
            store.lock.withLock { store.flushInProgress = false }
            failed(full: error.isBackendFull)
            return nil
        }
        recordFlush(nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
        return (store.lock.withLock { store.flushed(through: target) }, target)
    }

    /// Passes the right to flush on after a flush that covered staged sequence `target`, once its replies ran or
    /// were queued on their loops — so that no later flush's replies reach a loop before them. A checkpoint that
    /// is due goes to the committer thread with the right (left to race for it, that thread lost to the loops'
    /// next flushes for dozens of flushes while the checkpoint stayed due). Writes that arrived during the sync are
    /// flushed next by the event loop of the oldest of them: it answers its own writes without another thread hop,
    /// and the right passes between the loops as each one's writes pile up while another syncs (put-64 over two
    /// loops: 10–20 % more puts/s and ~15 % less server CPU than waking the committer thread, which then woke each
    /// loop). Returns whether the right was passed on; false when it was released with nothing waiting.
    @discardableResult
    private func handOver(after target: Int64) -> Bool {
        let checkpointDue = backend.checkpointDue
        let (nextLoop, more) = store.lock.withLock { () -> ((any EventLoop)?, Bool) in
            let more = store.stagedSequence > target || !store.waiters.isEmpty
            let nextLoop = more && !checkpointDue ? store.waiters.first?.loop : nil
            if nextLoop == nil && !checkpointDue { store.flushInProgress = false }
            return (nextLoop, more)
        }
        if checkpointDue {
            condition.lock()
            checkpointHandedOver = true
            hasWork = true
            condition.signal()
            condition.unlock()
            return true
        }
        if let nextLoop {
            nextLoop.execute { self.leadFlush() }
            return true
        }
        if more || backend.hasStagedWork {
            signal()
            return true
        }
        return false
    }

    /// Flush failures in a row, for the retry back-off. Guarded by `condition`.
    private var failures = 0
    /// Failures in a row after which a stop gives up on the writes still waiting (about 0.1 s of retries).
    static let failuresBeforeGivingUp = 4

    /// Whether the last flush failed for want of room (a full disk). Guarded by `condition`.
    private var lastFailureWasFull = false

    /// Whether the last flush failed: writers then leave flushing to this thread, which retries with back-off, so no
    /// event loop waits out a back-off or fails a flush of its own on every write.
    var isRetrying: Bool { condition.withLock { failures > 0 } }

    /// Whether the last flush failed because the disk is full: writes that add data are refused meanwhile (etcd's
    /// NOSPACE), until a retry succeeds.
    var isOutOfSpace: Bool { condition.withLock { failures > 0 && lastFailureWasFull } }

    /// Counts a failed flush and hands the retry to this thread (it waits out the back-off first).
    private func failed(full: Bool) {
        condition.lock()
        failures += 1
        lastFailureWasFull = full
        hasWork = true
        condition.signal()
        condition.unlock()
    }

    /// Waits before a retry after failures in a row: 10 ms more per failure, up to a second. Committer thread only.
    private func backOff() {
        let failures = condition.withLock { self.failures }
        if failures > 0 { Thread.sleep(forTimeInterval: min(1.0, 0.01 * Double(failures))) }
    }

    private func recordFlush(nanoseconds: UInt64) {
        condition.lock()
        failures = 0
        flushNanoseconds += nanoseconds
        flushCount += 1
        let report = flushCount % 2000 == 0
        let (count, total) = (flushCount, flushNanoseconds)
        condition.unlock()
        if report {
            logger.debug("group commit", metadata: ["flushes": "\(count)", "mean_flush_us": "\(total / count / 1000)"])
        }
    }

    /// Takes the right to use the backend's writer (`flushInProgress`) unless someone holds it.
    private func takeFlushRight() -> Bool {
        store.lock.withLock {
            if store.flushInProgress { return false }
            store.flushInProgress = true
            return true
        }
    }

    private func run() {
        while true {
            condition.lock()
            while !hasWork && running { condition.wait() }
            let keepRunning = running
            hasWork = false
            condition.unlock()

            if condition.withLock({ () -> Bool in
                defer { checkpointHandedOver = false }
                return checkpointHandedOver
            }) {
                backend.checkpointIfNeeded()
                releaseFlushRight()
            }
            backOff()
            // Take the right to flush; if a writer is leading one, it signals again when it is done.
            let acquired = takeFlushRight()
            if acquired, let (due, target) = flushOnce() {
                due.run()
                handOver(after: target)
            }
            defragmentIfAsked()
            if !keepRunning {
                let (idle, waiting) = store.lock.withLock {
                    (!store.flushInProgress && store.waiters.isEmpty, store.waiters.count)
                }
                // A stop does not wait for a disk that keeps failing: what it could not write was never acknowledged.
                let givingUp = condition.withLock { failures } >= Self.failuresBeforeGivingUp
                if (idle && !backend.hasStagedWork || givingUp) && takeFlushRight() {
                    if givingUp {
                        logger.error(
                            "stopping although the data directory still refuses writes; they were not acknowledged",
                            metadata: ["writes": "\(waiting)"])
                    }
                    // No transaction is left open for the data directory's next user; no new one is prepared
                    // (`running` is false), though a late write may still flush on its own.
                    backend.endPreparedFlush()
                    store.lock.withLock { store.flushInProgress = false }
                    finished.signal()
                    return
                }
                if !acquired { Thread.sleep(forTimeInterval: 0.001) }
            }
        }
    }
}
