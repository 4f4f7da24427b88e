/// The revision history of one key, as a list of generations (etcd's `keyIndex`).
///
/// A generation is one life of the key: from the Put that created it to the DELETE that ended it (its
/// tombstone). A later Put starts a new generation with version 1 again.
///
/// ```
///   put@2  put@4  del@6   |  put@8  put@9
///   v1     v2     (tomb)  |  v1     v2        ← versions
///   └── generation 0 ─────┘  └─ generation 1 (open) ─┘
/// ```
///
/// Reading at revision r finds the newest generation that began at or before r; if it was closed by a tombstone
/// at or before r the key did not exist at r, otherwise its newest revision at or before r is the answer.
/// Compaction at C drops every revision that no read at C or later can reach (see ``compact(at:)``).
///
/// Owned by the ``KVStore`` that holds it; not thread-safe.
public final class KeyIndex {
    /// One life of the key.
    struct Generation {
        /// Revisions of this generation's changes, ascending; the last is the tombstone when `closed`.
        var revisions: [Revision]
        /// The version of `revisions[0]` (1 unless compaction dropped the generation's first revisions).
        var firstVersion: Int64
        /// The main revision of the Put that created this generation (kept when compaction drops that Put).
        var created: Int64
        /// Whether a DELETE ended this generation (its revision is `revisions.last`).
        var closed: Bool
    }

    /// The key this index describes.
    public let key: [UInt8]
    /// Generations, oldest first. Empty only transiently, before the key is dropped from the store.
    private(set) var generations: [Generation] = []

    public init(key: [UInt8]) {
        self.key = key
    }

    /// What a read at a revision sees of this key.
    public struct Visible: Equatable, Sendable {
        /// The revision of the version visible (where its value is stored).
        public var modified: Revision
        /// The main revision that created the visible incarnation.
        public var created: Int64
        /// The visible version number.
        public var version: Int64
    }

    /// Whether the key currently exists (its newest generation is open).
    public var isLive: Bool {
        guard let last = generations.last else { return false }
        return !last.closed
    }

    /// Whether nothing is left (every generation was compacted away).
    public var isEmpty: Bool { generations.isEmpty }

    /// Records a Put at `revision`. Starts a new generation when the key does not currently exist.
    public func put(at revision: Revision) {
        put(at: revision, created: revision.main, version: 1)
    }

    /// Records a Put at `revision` whose record says when its generation was created and which version it is: a
    /// store reloading compacted history starts a generation from its oldest kept Put, not from its creation.
    /// `created` and `version` matter only when the Put starts a generation.
    public func put(at revision: Revision, created: Int64, version: Int64) {
        if let last = generations.indices.last, !generations[last].closed {
            generations[last].revisions.append(revision)
        } else {
            generations.append(Generation(revisions: [revision], firstVersion: version, created: created, closed: false))
        }
    }

    /// Records a DELETE at `revision`, closing the current generation.
    /// - Precondition: the key is live.
    public func tombstone(at revision: Revision) {
        precondition(isLive, "tombstone of a key that does not exist")
        let last = generations.count - 1
        generations[last].revisions.append(revision)
        generations[last].closed = true
    }

    /// What a read at main revision `atMain` sees, or nil if the key did not exist then.
    public func visible(at atMain: Int64) -> Visible? {
        var index = generations.count - 1
        while index >= 0 {
            let generation = generations[index]
            if let first = generation.revisions.first, first.main <= atMain {
                if generation.closed && generation.revisions.last!.main <= atMain { return nil }
                // The newest revision at or before atMain.
                var low = 0
                var high = generation.revisions.count - 1
                while low < high {
                    let mid = (low + high + 1) / 2
                    if generation.revisions[mid].main <= atMain { low = mid } else { high = mid - 1 }
                }
                return Visible(
                    modified: generation.revisions[low], created: generation.created,
                    version: generation.firstVersion + Int64(low))
            }
            index -= 1
        }
        return nil
    }

    /// Drops what no read at `compactMain` or later can reach, and returns the dropped revisions (whose stored rows
    /// the backend may delete).
    ///
    /// Kept: in the generation alive at `compactMain`, its newest revision at or before `compactMain` and everything
    /// after (and, when that newest revision is exactly `compactMain`, the one before it, which is that event's
    /// prev_kv); every later generation whole. A generation whose tombstone is below `compactMain` goes entirely; a
    /// tombstone exactly at `compactMain` stays (alone) until a later compaction, so a watch from `compactMain` still
    /// sees that DELETE (etcd #18089).
    @discardableResult
    public func compact(at compactMain: Int64) -> [Revision] {
        var dropped: [Revision] = []
        // Copied only once something goes: most keys of a large store have nothing to drop.
        var kept: [Generation]?
        for (position, var generation) in generations.enumerated() {
            let drop = Self.dropCount(generation, at: compactMain)
            if drop == 0 && !generation.revisions.isEmpty {
                kept?.append(generation)
                continue
            }
            if kept == nil { kept = Array(generations[..<position]) }
            dropped += generation.revisions[..<drop]
            // A generation that loses every revision goes.
            if drop == generation.revisions.count { continue }
            generation.revisions.removeFirst(drop)
            generation.firstVersion += Int64(drop)
            kept!.append(generation)
        }
        if let kept { generations = kept }
        return dropped
    }

    /// How many of `generation`'s oldest revisions compaction at `compactMain` drops: all of a generation ended
    /// below it; otherwise those before its newest revision at or before `compactMain` — and not the one before a
    /// change made exactly at the compaction point, which a watcher asking for prev_kv gets for every event it can
    /// still receive.
    private static func dropCount(_ generation: Generation, at compactMain: Int64) -> Int {
        guard let last = generation.revisions.last else { return 0 }
        if generation.closed && last.main < compactMain { return generation.revisions.count }
        var keepFrom = 0
        for (i, revision) in generation.revisions.enumerated() where revision.main <= compactMain {
            keepFrom = i
        }
        if keepFrom > 0 && generation.revisions[keepFrom].main == compactMain { keepFrom -= 1 }
        return keepFrom
    }
}

extension KeyIndex {
    /// Takes back the newest change (a Put or a tombstone) when the write that made it could not be committed.
    func undoLastChange() {
        guard let last = generations.indices.last else { return }
        if generations[last].closed {
            generations[last].revisions.removeLast()
            generations[last].closed = false
        } else if generations[last].revisions.count == 1 {
            generations.removeLast()
        } else {
            generations[last].revisions.removeLast()
        }
    }
}
