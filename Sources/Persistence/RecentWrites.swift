import MVCC

/// The records of recent writes, one entry per committed revision, in revision order: every write not yet flushed
/// (readable from here until SQLite has it) and, before those, flushed ones up to a byte budget (oldest dropped
/// first), so that reads of recently written values — a Range of a hot key, the previous value a Put's event
/// carries — do not go to SQLite.
///
/// Writes arrive in revision order, so finding a record is a binary search over revisions and flushing marks a
/// prefix: nothing is hashed per record (a dictionary of unflushed records plus a cache keyed by revision had cost
/// put-64 four hash-table operations per record). Guarded by its owner's lock.
struct RecentWrites {
    /// One committed revision's records, sub-revision `i` at index `i`, and their size for the budget.
    private struct Entry {
        var revision: Int64
        var records: [RevisionRecord]
        var bytes: Int
    }

    /// Entries from `head` on are live, ascending by revision; those before `head` were dropped.
    private var entries: [Entry] = []
    private var head = 0
    /// The index of the oldest entry not yet flushed (`entries.count` when all are).
    private var firstUnflushed = 0
    /// Bytes of live entries (estimate).
    private(set) var bytes = 0
    /// Flushed entries are dropped, oldest first, while live entries hold more than this.
    let maxBytes: Int

    init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    /// Adds a newly committed revision's records (sub-revision order); `revision` is above every revision held.
    mutating func append(revision: Int64, records: [RevisionRecord]) {
        precondition(entries.last.map { $0.revision < revision } ?? true, "writes arrive in revision order")
        let size = records.reduce(0) { $0 + RecentWrites.size(of: $1) }
        entries.append(Entry(revision: revision, records: records, bytes: size))
        bytes += size
    }

    /// The oldest `count` unflushed revisions are in SQLite now; flushed ones beyond the budget are dropped.
    mutating func markFlushed(revisions count: Int) {
        firstUnflushed += count
        precondition(firstUnflushed <= entries.count, "flushed more revisions than were written")
        while bytes > maxBytes && head < firstUnflushed {
            bytes -= entries[head].bytes
            entries[head].records = []
            head += 1
        }
        if head > 4096 && head * 2 > entries.count {
            entries.removeFirst(head)
            firstUnflushed -= head
            head = 0
        }
    }

    /// The record at `revision`, if its write is held here.
    subscript(revision: Revision) -> RevisionRecord? {
        guard let index = index(of: revision.main) else { return nil }
        let records = entries[index].records
        return revision.sub >= 0 && revision.sub < Int64(records.count) ? records[Int(revision.sub)] : nil
    }

    /// Bytes of the unflushed entries (estimate).
    var unflushedBytes: Int {
        entries[max(head, firstUnflushed)...].reduce(0) { $0 + $1.bytes }
    }

    /// The unflushed records whose main revision is in `range`, in revision order.
    func unflushed(in range: ClosedRange<Int64>) -> [RevisionRecord] {
        var found: [RevisionRecord] = []
        var index = firstIndex(atLeast: range.lowerBound, from: max(head, firstUnflushed))
        while index < entries.count && entries[index].revision <= range.upperBound {
            found += entries[index].records
            index += 1
        }
        return found
    }

    /// The index of the live entry of `revision`, if held.
    private func index(of revision: Int64) -> Int? {
        let index = firstIndex(atLeast: revision, from: head)
        return index < entries.count && entries[index].revision == revision ? index : nil
    }

    /// The first index at or after `start` whose entry's revision is at least `revision` (binary search).
    private func firstIndex(atLeast revision: Int64, from start: Int) -> Int {
        var low = start
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].revision < revision { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private static func size(of record: RevisionRecord) -> Int {
        record.kv.key.count + record.kv.value.count + 96
    }
}
