import Foundation
import Logging
import MVCC

/// The thread that makes staged writes durable: it waits for work, flushes everything staged in one backend
/// transaction and sync, then publishes and acknowledges every write that flush covered. While one flush syncs, new
/// writes pile up and go together in the next (group commit): throughput grows with concurrency while each write
/// waits for about one sync.
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
    /// Flush statistics for the debug log. Used only by the committer thread.
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

    /// Flushes what is left and ends the thread.
    func stop() {
        condition.lock()
        running = false
        condition.signal()
        condition.unlock()
        finished.wait()
    }

    private func run() {
        var failures = 0
        while true {
            condition.lock()
            while !hasWork && running { condition.wait() }
            let keepRunning = running
            hasWork = false
            condition.unlock()

            // Everything staged up to this sequence number is handed to this flush.
            let target = store.lock.withLock { store.stagedSequence }
            let started = DispatchTime.now().uptimeNanoseconds
            do {
                _ = try backend.flush()
                failures = 0
                flushNanoseconds += DispatchTime.now().uptimeNanoseconds - started
                flushCount += 1
                if flushCount % 2000 == 0 {
                    logger.debug("group commit", metadata: [
                        "flushes": "\(flushCount)", "mean_flush_us": "\(flushNanoseconds / flushCount / 1000)",
                    ])
                }
            } catch {
                // Nothing is acknowledged: the writes stay pending and the flush is retried.
                failures += 1
                logger.error("flushing to the data directory failed; retrying", metadata: ["error": "\(error)"])
                Thread.sleep(forTimeInterval: min(1.0, 0.01 * Double(failures)))
                signal()
                continue
            }
            let due = store.lock.withLock { store.flushed(through: target) }
            for reply in due { reply() }
            backend.checkpointIfNeeded()
            if backend.hasStagedWork { signal() }
            if !keepRunning {
                if backend.hasStagedWork { continue }
                finished.signal()
                return
            }
        }
    }
}
