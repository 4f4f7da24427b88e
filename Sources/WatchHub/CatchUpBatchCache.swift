public import MVCC
import NIOCore

/// Catch-up responses already built, for watchers that catch up over the same revisions and want the same events.
///
/// When a slow stream's watchers of one key are parked together they resume from the same revision: the first
/// builds the batch (its events' bytes joined into one piece), the others reuse it — extended by a further piece
/// when the head has moved on since — so a catch-up response costs a copy of a few contiguous pieces instead of an
/// array per event and watcher. An entry is never wrong — history below
/// the head does not change, and a watcher below the compaction point is canceled before it reads — only useless
/// once no watcher resumes from its revision, so eviction is wholesale when the byte bound is reached.
/// Guarded by the hub lock.
struct CatchUpBatchCache {
    /// What makes two watchers' batches identical: the same keys, the same first revision, the same event filters
    /// and prev_kv choice (the start revision does not matter: both are past it).
    struct Key: Hashable {
        let range: KeyRange
        let from: Int64
        let wants: UInt8
    }

    /// One built batch: the matching events of revisions `from` through `through`, their `events` fields laid end
    /// to end in `pieces` (each piece the joined events of consecutive revisions; none when nothing matched).
    struct Batch {
        var pieces: [ByteBuffer] = []
        var through: Int64
        /// The bytes of all pieces.
        var size = 0
    }

    private var batches: [Key: Batch] = [:]
    /// Sum of the cached batches' byte counts.
    private var bytes = 0
    /// Above this many cached bytes, the cache starts over.
    let maxBytes: Int

    init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    subscript(key: Key) -> Batch? { batches[key] }

    /// Stores `batch` for `key`, replacing what was there (a shorter batch from the same revision).
    mutating func insert(_ batch: Batch, for key: Key) {
        let replaced = batches.removeValue(forKey: key)
        bytes -= replaced?.size ?? 0
        guard batch.size <= maxBytes else { return }
        if bytes + batch.size > maxBytes {
            batches.removeAll(keepingCapacity: true)
            bytes = 0
        }
        batches[key] = batch
        bytes += batch.size
    }
}
