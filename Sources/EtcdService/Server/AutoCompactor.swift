import EtcdProto
import Logging
import NIOCore

/// Compacts history on its own, as etcd's `--auto-compaction-mode`/`--auto-compaction-retention` do:
///
/// - **periodic** (retention = a duration): every retention/10 (at least every second, at most every hour) it notes
///   the current revision, and compacts to the newest revision noted at least `retention` ago;
/// - **revision** (retention = a count): every 5 minutes it compacts to current − retention.
public final class AutoCompactor: @unchecked Sendable {
    /// etcd's two modes.
    public enum Mode: Sendable, Equatable {
        case periodic(retentionMilliseconds: Int64)
        case revision(retain: Int64)
    }

    private let store: EtcdStore
    private let mode: Mode
    private let logger: Logger
    /// Revisions noted by the periodic mode, oldest first, with when they were noted. Touched only on `eventLoop`.
    private var samples: [(at: NIODeadline, revision: Int64)] = []
    private var task: RepeatedTask?

    public init(store: EtcdStore, mode: Mode, eventLoop: any EventLoop, logger: Logger) {
        self.store = store
        self.mode = mode
        self.logger = logger
        let interval: TimeAmount
        switch mode {
        case .periodic(let retention):
            interval = .milliseconds(min(max(retention / 10, 1000), 3_600_000))
        case .revision:
            interval = .minutes(5)
        }
        task = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in self?.tick() }
    }

    public func stop() {
        task?.cancel()
    }

    /// One step: decide the target revision and compact to it if it moved.
    func tick(now: NIODeadline = .now()) {
        let current = store.currentRevision
        let target: Int64
        switch mode {
        case .periodic(let retention):
            samples.append((now, current))
            let cutoff = now - .milliseconds(retention)
            guard let index = samples.lastIndex(where: { $0.at <= cutoff }) else { return }
            target = samples[index].revision
            samples.removeFirst(index)
        case .revision(let retain):
            target = current - retain
        }
        guard target > 0 else { return }
        store.compact(CompactionRequest(revision: target, physical: false)) { [logger] result in
            switch result {
            case .success: logger.info("auto-compacted", metadata: ["revision": "\(target)"])
            case .failure(.compacted): break  // already at or past the target
            case .failure(let error): logger.warning("auto-compaction failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
