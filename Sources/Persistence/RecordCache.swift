import MVCC

/// Records read back from SQLite, bounded by bytes, so that reads of hot keys do not go to SQLite again (recent
/// writes are in ``RecentWrites``). First in, first out: a record read again after eviction costs one more SQLite lookup, which keeps the
/// cache free of bookkeeping on hits. Guarded by its owner's lock.
struct RecordCache {
    private var records: [Revision: RevisionRecord] = [:]
    /// Insertion order, oldest first (from `head` on).
    private var order: [Revision] = []
    private var head = 0
    private(set) var bytes = 0
    let maxBytes: Int

    init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    subscript(revision: Revision) -> RevisionRecord? { records[revision] }

    mutating func insert(_ record: RevisionRecord) {
        guard records[record.revision] == nil else { return }
        let size = Self.size(of: record)
        guard size <= maxBytes / 4 else { return }  // a huge value would flush everything else
        records[record.revision] = record
        order.append(record.revision)
        bytes += size
        while bytes > maxBytes && head < order.count {
            if let evicted = records.removeValue(forKey: order[head]) { bytes -= Self.size(of: evicted) }
            head += 1
        }
        if head > 4096 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    mutating func remove(_ revision: Revision) {
        if let record = records.removeValue(forKey: revision) { bytes -= Self.size(of: record) }
    }

    private static func size(of record: RevisionRecord) -> Int {
        record.kv.key.count + record.kv.value.count + 96
    }
}
