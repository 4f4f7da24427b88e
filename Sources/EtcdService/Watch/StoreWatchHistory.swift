import MVCC
import NIOConcurrencyHelpers
import WatchHub

/// Reads history for catching-up watchers from the store's backend, under the store's lock, with each event's
/// previous version looked up as of the revision before it.
struct StoreWatchHistory: WatchHistory, @unchecked Sendable {
    /// The store and the lock that guards it (``EtcdStore``'s).
    let read: @Sendable (ClosedRange<Int64>, Int) throws -> (revisions: [(Int64, [Event])], through: Int64)

    func revisions(in range: ClosedRange<Int64>, maxBytes: Int) throws -> (revisions: [(Int64, [Event])], through: Int64) {
        try read(range, maxBytes)
    }

    /// Builds the revisions of `range` from `store`, stopping at a revision boundary after `maxBytes`.
    static func readRevisions(from store: KVStore, range: ClosedRange<Int64>, maxBytes: Int) throws
        -> (revisions: [(Int64, [Event])], through: Int64)
    {
        // Read in slices so a huge range does not load at once.
        var revisions: [(Int64, [Event])] = []
        var size = 0
        var start = range.lowerBound
        let slice: Int64 = 256
        while start <= range.upperBound {
            let end = min(range.upperBound, start + slice - 1)
            let records = try store.records(mainRevisions: start...end)
            var current: (Int64, [Event])?
            for record in records {
                if current?.0 != record.revision.main {
                    if let finished = current {
                        revisions.append(finished)
                        if size >= maxBytes { return (revisions, finished.0) }
                    }
                    current = (record.revision.main, [])
                }
                let previous = try store.get(record.kv.key, at: record.revision.main - 1)
                current!.1.append(
                    Event(kind: record.isTombstone ? .delete : .put, kv: record.kv, prevKV: previous))
                size += record.kv.key.count + record.kv.value.count + 32
            }
            if let finished = current { revisions.append(finished) }
            if size >= maxBytes { return (revisions, end) }
            start = end + 1
        }
        return (revisions, range.upperBound)
    }
}
