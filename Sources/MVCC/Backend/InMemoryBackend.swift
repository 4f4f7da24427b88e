/// A backend that keeps the revision log in memory: nothing survives the process. For tests, and the default until
/// the durable backend lands.
public final class InMemoryBackend: MVCCBackend {
    /// Records by revision. Guarded by the store's exclusive access.
    private var rows: [Revision: RevisionRecord] = [:]
    /// Main revisions in commit order with their records, for ordered scans.
    private var log: [(main: Int64, records: [RevisionRecord])] = []
    private var currentRevision: Int64 = 1
    private var compactRevision: Int64 = -1
    /// Bytes of keys and values held, plus a fixed cost per row.
    public private(set) var estimatedSize = 0

    public init() {}

    public func load(_ visit: (RevisionRecord) -> Void) throws(MVCCError) -> BackendCounters {
        for entry in log {
            for record in entry.records where rows[record.revision] != nil { visit(record) }
        }
        return BackendCounters(currentRevision: currentRevision, compactRevision: compactRevision)
    }

    public func commit(revision: Int64, records: [RevisionRecord]) throws(MVCCError) {
        for record in records {
            rows[record.revision] = record
            estimatedSize += Self.size(of: record)
        }
        log.append((revision, records))
        currentRevision = revision
    }

    public func record(at revision: Revision) throws(MVCCError) -> RevisionRecord? {
        rows[revision]
    }

    public func records(mainRevisions range: ClosedRange<Int64>) throws(MVCCError) -> [RevisionRecord] {
        // The log is in revision order: binary-search the start.
        var low = 0
        var high = log.count
        while low < high {
            let mid = (low + high) / 2
            if log[mid].main < range.lowerBound { low = mid + 1 } else { high = mid }
        }
        var out: [RevisionRecord] = []
        var index = low
        while index < log.count, log[index].main <= range.upperBound {
            for record in log[index].records where rows[record.revision] != nil { out.append(record) }
            index += 1
        }
        return out
    }

    private static func size(of record: RevisionRecord) -> Int {
        record.kv.key.count + record.kv.value.count + 64
    }

    public func compact(at revision: Int64, dropping dropped: [Revision]) throws(MVCCError) {
        for revision in dropped {
            if let record = rows.removeValue(forKey: revision) { estimatedSize -= Self.size(of: record) }
        }
        compactRevision = revision
        // Forget log entries below the compaction point whose rows are all gone.
        var firstKept = 0
        while firstKept < log.count, log[firstKept].main < revision,
            log[firstKept].records.allSatisfy({ rows[$0.revision] == nil })
        {
            firstKept += 1
        }
        if firstKept > 0 { log.removeFirst(firstKept) }
    }
}
