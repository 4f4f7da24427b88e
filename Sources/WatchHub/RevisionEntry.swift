import MVCC

/// One committed revision as the hub keeps it: its events, and each event encoded once (with and without its
/// previous version, the latter only when some watcher wants it). Immutable after creation but for the lazily
/// filled `withPrevKV` cache, which is guarded by the hub lock.
final class RevisionEntry {
    let revision: Int64
    let events: [Event]
    /// `events` encoded without prev_kv, made on first need (a revision no watcher wants is never encoded).
    private var encoded: [[UInt8]]?
    /// `events` encoded with prev_kv, made on first need.
    private var encodedWithPrev: [[UInt8]]?
    /// Bytes held, for the log's budget (an estimate from the raw keys and values).
    let size: Int

    init(revision: Int64, events: [Event]) {
        self.revision = revision
        self.events = events
        self.size = events.reduce(64) {
            $0 + 32 + $1.kv.key.count + $1.kv.value.count + ($1.prevKV.map { $0.key.count + $0.value.count + 32 } ?? 0)
        }
    }

    /// Every event's bytes, in order: the array itself is shared by every watcher that wants the whole revision.
    func allBytes(prevKV: Bool, encoder: EventEncoder) -> [[UInt8]] {
        encodings(withPrevKV: prevKV && events.contains { $0.prevKV != nil }, encoder: encoder)
    }

    /// Appends the bytes of each event `watcher` (whose range is `range`) wants, in order; returns their size.
    func appendMatches(in range: KeyRange, for watcher: Watcher, encoder: EventEncoder, to out: inout [[UInt8]]) -> Int {
        var size = 0
        for index in events.indices
        where range.contains(events[index].kv.key) && watcher.wants(events[index], at: revision) {
            let encoded = bytes(index, prevKV: watcher.wantsPrevKV, encoder: encoder)
            size += encoded.count
            out.append(encoded)
        }
        return size
    }

    func bytes(_ index: Int, prevKV: Bool, encoder: EventEncoder) -> [UInt8] {
        encodings(withPrevKV: prevKV && events[index].prevKV != nil, encoder: encoder)[index]
    }

    /// Every event encoded with or without its previous version, encoding them on first need.
    private func encodings(withPrevKV: Bool, encoder: EventEncoder) -> [[UInt8]] {
        if withPrevKV {
            if encodedWithPrev == nil { encodedWithPrev = events.map { encoder($0, true) } }
            return encodedWithPrev!
        }
        if encoded == nil { encoded = events.map { encoder($0, false) } }
        return encoded!
    }
}

/// The most recent revisions, newest last, bounded by bytes and count: catch-up of watchers that are only a little
/// behind reads here instead of the backend. Guarded by the hub lock.
struct EventLog {
    private var entries: [RevisionEntry] = []
    /// Index of the oldest live entry in `entries` (older slots are compacted away in batches).
    private var head = 0
    private var bytes = 0
    let maxBytes: Int
    let maxEntries: Int

    init(maxBytes: Int, maxEntries: Int) {
        self.maxBytes = maxBytes
        self.maxEntries = maxEntries
    }

    mutating func append(_ entry: RevisionEntry) {
        entries.append(entry)
        bytes += entry.size
        while entries.count - head > 1 && (bytes > maxBytes || entries.count - head > maxEntries) {
            bytes -= entries[head].size
            head += 1
        }
        if head > 1024 && head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }

    /// The oldest revision held, if any.
    var firstRevision: Int64? { head < entries.count ? entries[head].revision : nil }

    /// Entries with revisions in `range`, oldest first, if the log holds the range's start (else nil).
    func entries(from start: Int64, through end: Int64) -> ArraySlice<RevisionEntry>? {
        guard let first = firstRevision, first <= start else { return nil }
        // Revisions are consecutive only where writes happened: binary-search both ends (a lagging watcher's range
        // spans thousands of entries, and it asks again for every batch).
        let low = entries[head...].firstIndex(revisionAbove: start - 1)
        let upper = entries[entries.count - 1].revision <= end ? entries.count : entries[low...].firstIndex(revisionAbove: end)
        return entries[low..<upper]
    }
}

extension ArraySlice where Element == RevisionEntry {
    /// The index of the first entry whose revision is above `revision` (the entries being in revision order).
    func firstIndex(revisionAbove revision: Int64) -> Index {
        var low = startIndex
        var high = endIndex
        while low < high {
            let mid = low + (high - low) / 2
            if self[mid].revision <= revision { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
