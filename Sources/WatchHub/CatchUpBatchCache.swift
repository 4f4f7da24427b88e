import MVCC
import NIOCore

/// Catch-up responses already built, for watchers that catch up over the same revisions and want the same events.
///
/// A slow stream's watchers of one key are parked at whatever revision the stream's budget ran out, so they resume
/// from many different revisions. A batch is kept per key range and event choice with where each revision's events
/// start in it: a watcher resuming anywhere inside it takes the part from its revision on (slices of the same
/// buffers, no copy), and the first to find the head gone further extends it by a piece for everyone. So each
/// revision is encoded into a batch once, not once per resume point, and a catch-up response costs a few slices.
/// An entry is never wrong — history below the head does not change, and a watcher below the compaction point is
/// canceled before it reads — only useless once no watcher resumes inside it, so eviction is wholesale when the
/// byte bound is reached (and the oldest of a key's batches goes when it has too many). Guarded by the hub lock.
struct CatchUpBatchCache {
    /// What makes two watchers' batches identical: the same keys, the same event filters and prev_kv choice (the
    /// start revision does not matter: both are past it).
    struct Key: Hashable {
        let range: KeyRange
        let wants: UInt8
    }

    /// One built batch: the matching events of revisions `first` through `through`, their `events` fields laid end
    /// to end in `pieces` (each piece the joined events of consecutive revisions).
    struct Batch {
        /// The first revision the batch covers.
        let first: Int64
        /// The last revision the batch covers (`first - 1` while it is empty).
        var through: Int64
        var pieces: [ByteBuffer] = []
        /// Each revision with events in the batch, in order, and the offset of its events from the batch's start.
        var marks: [(revision: Int64, offset: Int)] = []
        /// The bytes of all pieces.
        var size = 0

        init(first: Int64) {
            self.first = first
            self.through = first - 1
        }

        /// Whether a watcher that needs revisions from `next` on can take its response from this batch: it covers
        /// `next`, or ends right before it (and is extended first).
        func serves(_ next: Int64) -> Bool { first <= next && next <= through + 1 }

        /// The offset where the events of revisions from `next` on begin (the end when there are none yet).
        func offset(from next: Int64) -> Int {
            let index = firstMark { $0.revision >= next }
            return index < marks.count ? marks[index].offset : size
        }

        /// Appends the joined events of the revisions after `through` up to `newThrough`; `newMarks` are their
        /// revisions' offsets from the start of the batch.
        mutating func append(_ joined: ByteBuffer, marks newMarks: [(revision: Int64, offset: Int)], through newThrough: Int64) {
            if joined.readableBytes > 0 { pieces.append(joined) }
            marks += newMarks
            size += joined.readableBytes
            through = newThrough
        }

        /// The response for a watcher that needs revisions from `next` on: whole revisions from `next`, stopping
        /// once `maxBytes` are reached (after the revision that reaches them), as slices of the pieces; and the
        /// last revision it covers.
        func suffix(from next: Int64, maxBytes: Int) -> (pieces: [ByteBuffer], through: Int64) {
            let startMark = firstMark { $0.revision >= next }
            guard startMark < marks.count else { return ([], through) }
            let start = marks[startMark].offset
            let endMark = firstMark(from: startMark + 1) { $0.offset - start >= maxBytes }
            let end = endMark < marks.count ? marks[endMark].offset : size
            let covered = endMark < marks.count ? marks[endMark].revision - 1 : through
            return (slices(start..<end), covered)
        }

        /// The pieces' bytes in `range` (offsets from the batch's start), as slices sharing their storage.
        private func slices(_ range: Range<Int>) -> [ByteBuffer] {
            var out: [ByteBuffer] = []
            var pieceStart = 0
            for piece in pieces {
                let pieceEnd = pieceStart + piece.readableBytes
                let from = Swift.max(range.lowerBound, pieceStart)
                let to = Swift.min(range.upperBound, pieceEnd)
                if from < to, let slice = piece.getSlice(at: piece.readerIndex + from - pieceStart, length: to - from) {
                    out.append(slice)
                }
                if pieceEnd >= range.upperBound { break }
                pieceStart = pieceEnd
            }
            return out
        }

        /// The index of the first mark from `start` on for which `isAtOrAfter` holds (monotonic over the marks).
        private func firstMark(from start: Int = 0, _ isAtOrAfter: ((revision: Int64, offset: Int)) -> Bool) -> Int {
            var low = start
            var high = marks.count
            while low < high {
                let mid = low + (high - low) / 2
                if isAtOrAfter(marks[mid]) { high = mid } else { low = mid + 1 }
            }
            return low
        }
    }

    /// A key's batches, a few at most (watchers may resume before one batch starts or after it ends).
    private var batches: [Key: [Batch]] = [:]
    /// Sum of the cached batches' byte counts.
    private var bytes = 0
    /// Above this many cached bytes, the cache starts over.
    let maxBytes: Int
    /// Batches kept per key; a new one beyond this replaces the one that ends first.
    static let batchesPerKey = 4

    init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    /// A batch for `key` that serves a watcher needing revisions from `next` on, if one is cached.
    func batch(for key: Key, serving next: Int64) -> Batch? {
        batches[key]?.first { $0.serves(next) }
    }

    /// Stores `batch` for `key`, in place of the cached batch with the same first revision (a shorter version of
    /// it) if there is one.
    mutating func insert(_ batch: Batch, for key: Key) {
        var kept = batches[key] ?? []
        if let same = kept.firstIndex(where: { $0.first == batch.first }) {
            bytes -= kept[same].size
            kept.remove(at: same)
        } else if kept.count >= Self.batchesPerKey, let oldest = kept.indices.min(by: { kept[$0].through < kept[$1].through }) {
            bytes -= kept[oldest].size
            kept.remove(at: oldest)
        }
        batches[key] = kept
        guard batch.size <= maxBytes else { return }
        if bytes + batch.size > maxBytes {
            batches.removeAll(keepingCapacity: true)
            bytes = 0
            kept = []
        }
        kept.append(batch)
        batches[key] = kept
        bytes += batch.size
    }
}
