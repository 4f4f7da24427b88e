/// An ordered map from raw-byte keys to values, kept as a list of sorted chunks (a two-level B+-tree, in the manner
/// of Python's SortedContainers).
///
/// Each chunk holds at most ``maxChunkCount`` keys; a lookup binary-searches the chunks by their last key, then the
/// chunk. Insert and remove are O(log n + chunk size); a range scan is O(log n + k). At a million keys there are
/// about 2,000–4,000 chunks, so splitting a chunk moves a few thousand references at most, and nothing is ever
/// rebuilt wholesale.
///
/// Both searches compare *abbreviated keys* first (as PostgreSQL's sorts do): eight bytes of each key, read as one
/// integer, kept in a contiguous array beside the keys. Following a pointer to every key a search visits cost a
/// cache miss per step, most of a lookup's time in a large index; an integer comparison settles nearly every step.
/// The eight bytes are taken after the prefix that all the keys compared share (the whole map's for the chunk
/// search, the chunk's for the search inside it), so keys with long common prefixes, such as `/registry/pods/…`,
/// still differ in their abbreviations. Equal abbreviations fall back to comparing the keys.
///
/// Keys compare with ``KeyOrder`` (unsigned bytes). Not thread-safe; owned by its store.
///
/// Inlinable, so that other modules (the watch hub's index of watched keys) get it specialised for their value type
/// instead of calling generic code through metadata and copying chunks to call their methods.
public struct SortedKeyMap<Value> {
    /// One run of consecutive keys and their values, both sorted by key and never empty.
    @usableFromInline
    struct Chunk {
        @usableFromInline
        var keys: [[UInt8]]
        @usableFromInline
        var values: [Value]
        /// How many leading bytes every key of the chunk has in common (at most their longest common prefix: removals
        /// may leave it shorter than it could be, which is still correct).
        @usableFromInline
        var shared: Int
        /// `abbreviations[i]` is `keys[i]` abbreviated after `shared` bytes.
        @usableFromInline
        var abbreviations: [UInt64]

        /// A chunk of sorted `keys`, abbreviated after their longest common prefix.
        @inlinable
        init(keys: [[UInt8]], values: [Value]) {
            self.keys = keys
            self.values = values
            // Sorted keys: the first and the last share exactly what all of them share.
            let offset = SortedKeyMap.commonPrefixLength(keys[0], keys[keys.count - 1])
            shared = offset
            abbreviations = keys.map { SortedKeyMap.abbreviation($0, after: offset) }
        }

        /// Position of the first key ≥ `key`.
        @inlinable
        func lowerBound(_ key: [UInt8]) -> Int {
            guard SortedKeyMap.sharesPrefix(key, with: keys[0], count: shared) else {
                // Outside the prefix all the chunk's keys share: before all of them or after all of them.
                return KeyOrder.less(key, keys[0]) ? 0 : keys.count
            }
            let probe = SortedKeyMap.abbreviation(key, after: shared)
            var low = 0
            var high = keys.count
            while low < high {
                let mid = (low + high) / 2
                let candidate = abbreviations[mid]
                let isLess = candidate != probe ? candidate < probe : KeyOrder.less(keys[mid], key)
                if isLess { low = mid + 1 } else { high = mid }
            }
            return low
        }

        /// Inserts `key` (absent, and belonging at `index`).
        @inlinable
        mutating func insert(_ key: [UInt8], _ value: Value, at index: Int) {
            keys.insert(key, at: index)
            values.insert(value, at: index)
            if SortedKeyMap.sharesPrefix(key, with: keys[index == 0 ? 1 : 0], count: shared) {
                abbreviations.insert(SortedKeyMap.abbreviation(key, after: shared), at: index)
            } else {
                // A new first or last key with less in common: the chunk's keys are abbreviated again.
                let offset = SortedKeyMap.commonPrefixLength(keys[0], keys[keys.count - 1])
                shared = offset
                abbreviations = keys.map { SortedKeyMap.abbreviation($0, after: offset) }
            }
        }

        @inlinable
        mutating func remove(at index: Int) -> Value {
            keys.remove(at: index)
            abbreviations.remove(at: index)
            return values.remove(at: index)
        }
    }

    /// Chunks in key order; empty when the map is empty.
    @usableFromInline
    var chunks: [Chunk] = []
    /// The last key of each chunk, abbreviated after `shared` bytes: what the chunk search compares.
    @usableFromInline
    var lastAbbreviations: [UInt64] = []
    /// How many leading bytes every key in the map has in common (at most their longest common prefix).
    @usableFromInline
    var shared = 0
    /// Total number of keys.
    public var count: Int { keyCount }
    /// Total number of keys (``count``), settable from the inlinable mutators.
    @usableFromInline
    var keyCount = 0

    /// A chunk that grows past this splits in two.
    public let maxChunkCount: Int

    @inlinable
    public init(maxChunkCount: Int = 1024) {
        precondition(maxChunkCount >= 4)
        self.maxChunkCount = maxChunkCount
    }

    @inlinable
    public var isEmpty: Bool { count == 0 }

    // MARK: Abbreviated keys

    /// The 8 bytes of `key` after its first `offset` (which the caller knows it has), as a big-endian integer,
    /// zero-padded past the key's end. For two keys with the same first `offset` bytes, a smaller abbreviation
    /// means a smaller key and a larger one a larger key; equal abbreviations decide nothing (the keys may differ
    /// further on, or only in length).
    @inlinable @inline(__always)
    static func abbreviation(_ key: [UInt8], after offset: Int) -> UInt64 {
        let end = Swift.min(key.count, offset + 8)
        var value: UInt64 = 0
        var index = offset
        while index < end {
            value = value << 8 | UInt64(key[index])
            index += 1
        }
        return value << (8 * (8 - UInt64(end - offset)))
    }

    /// Whether `key` begins with the first `count` bytes of `reference`.
    @inlinable @inline(__always)
    static func sharesPrefix(_ key: [UInt8], with reference: [UInt8], count: Int) -> Bool {
        guard key.count >= count else { return false }
        var index = 0
        while index < count {
            if key[index] != reference[index] { return false }
            index += 1
        }
        return true
    }

    @inlinable
    static func commonPrefixLength(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let limit = Swift.min(a.count, b.count)
        var index = 0
        while index < limit && a[index] == b[index] { index += 1 }
        return index
    }

    /// Abbreviates every chunk's last key again (after `shared` changed).
    @inlinable
    mutating func abbreviateLastKeys() {
        let offset = shared
        lastAbbreviations = chunks.map { Self.abbreviation($0.keys[$0.keys.count - 1], after: offset) }
    }

    /// Notes chunk `index`'s last key in `lastAbbreviations`.
    @inlinable
    mutating func noteLastKey(of index: Int) {
        let chunk = chunks[index]
        lastAbbreviations[index] = Self.abbreviation(chunk.keys[chunk.keys.count - 1], after: shared)
    }

    // MARK: Searching

    /// The chunk that holds `key` or where it would be inserted: the first whose last key is ≥ `key`, else the last.
    @inlinable
    func chunkIndex(for key: [UInt8]) -> Int {
        let last = chunks.count - 1
        let reference = chunks[0].keys[0]
        guard Self.sharesPrefix(key, with: reference, count: shared) else {
            // Outside the prefix every key shares: before all keys or after all of them.
            return KeyOrder.less(key, reference) ? 0 : last
        }
        let probe = Self.abbreviation(key, after: shared)
        var low = 0
        var high = last
        while low < high {
            let mid = (low + high) / 2
            let candidate = lastAbbreviations[mid]
            let lastIsLess =
                candidate != probe
                ? candidate < probe : KeyOrder.less(chunks[mid].keys[chunks[mid].keys.count - 1], key)
            if lastIsLess { low = mid + 1 } else { high = mid }
        }
        return low
    }

    @inlinable
    public subscript(key: [UInt8]) -> Value? {
        get {
            guard !chunks.isEmpty else { return nil }
            let c = chunkIndex(for: key)
            let i = chunks[c].lowerBound(key)
            guard i < chunks[c].keys.count, chunks[c].keys[i] == key else { return nil }
            return chunks[c].values[i]
        }
        set {
            if let newValue { insert(key, newValue) } else { remove(key) }
        }
    }

    // MARK: Changing

    /// Inserts or replaces the value for `key`.
    @inlinable
    public mutating func insert(_ key: [UInt8], _ value: Value) {
        guard !chunks.isEmpty else {
            chunks = [Chunk(keys: [key], values: [value])]
            shared = key.count
            abbreviateLastKeys()
            keyCount = 1
            return
        }
        if !Self.sharesPrefix(key, with: chunks[0].keys[0], count: shared) {
            // The key has less in common with the others than they have among themselves.
            shared = Self.commonPrefixLength(key, chunks[0].keys[0])
            abbreviateLastKeys()
        }
        let c = chunkIndex(for: key)
        let i = chunks[c].lowerBound(key)
        if i < chunks[c].keys.count, chunks[c].keys[i] == key {
            chunks[c].values[i] = value
            return
        }
        chunks[c].insert(key, value, at: i)
        keyCount += 1
        if chunks[c].keys.count > maxChunkCount {
            let half = chunks[c].keys.count / 2
            let lower = Chunk(keys: Array(chunks[c].keys[..<half]), values: Array(chunks[c].values[..<half]))
            let upper = Chunk(keys: Array(chunks[c].keys[half...]), values: Array(chunks[c].values[half...]))
            chunks[c] = lower
            chunks.insert(upper, at: c + 1)
            lastAbbreviations.insert(0, at: c + 1)
            noteLastKey(of: c)
            noteLastKey(of: c + 1)
        } else if i == chunks[c].keys.count - 1 {
            noteLastKey(of: c)
        }
    }

    /// Removes `key`; returns its value if it was present.
    @inlinable @discardableResult
    public mutating func remove(_ key: [UInt8]) -> Value? {
        guard !chunks.isEmpty else { return nil }
        let c = chunkIndex(for: key)
        let i = chunks[c].lowerBound(key)
        guard i < chunks[c].keys.count, chunks[c].keys[i] == key else { return nil }
        let value = chunks[c].remove(at: i)
        keyCount -= 1
        if chunks[c].keys.isEmpty {
            chunks.remove(at: c)
            lastAbbreviations.remove(at: c)
        } else if c + 1 < chunks.count, chunks[c].keys.count + chunks[c + 1].keys.count <= maxChunkCount / 2 {
            // Merge small neighbours so that many removals do not leave a long tail of tiny chunks.
            let next = chunks.remove(at: c + 1)
            lastAbbreviations.remove(at: c + 1)
            chunks[c] = Chunk(keys: chunks[c].keys + next.keys, values: chunks[c].values + next.values)
            noteLastKey(of: c)
        } else if i == chunks[c].keys.count {
            noteLastKey(of: c)
        }
        if chunks.isEmpty { shared = 0 }
        return value
    }

    // MARK: Scanning

    /// Calls `body` for every key in `[lowerBound, upperBound)` in ascending order (`upperBound` nil: no upper
    /// limit) until it returns false.
    @inlinable
    public func forEach(from lowerBound: [UInt8], upTo upperBound: [UInt8]?, _ body: ([UInt8], Value) -> Bool) {
        guard !chunks.isEmpty else { return }
        var c = chunkIndex(for: lowerBound)
        var i = chunks[c].lowerBound(lowerBound)
        while c < chunks.count {
            let chunk = chunks[c]
            while i < chunk.keys.count {
                let key = chunk.keys[i]
                if let upperBound, !KeyOrder.less(key, upperBound) { return }
                if !body(key, chunk.values[i]) { return }
                i += 1
            }
            c += 1
            i = 0
        }
    }

    /// Calls `body` for every entry in ascending key order.
    @inlinable
    public func forEach(_ body: ([UInt8], Value) -> Void) {
        for chunk in chunks {
            for i in chunk.keys.indices { body(chunk.keys[i], chunk.values[i]) }
        }
    }
}
