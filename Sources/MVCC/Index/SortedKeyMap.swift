/// An ordered map from raw-byte keys to values, kept as a list of sorted chunks (a two-level B+-tree, in the manner
/// of Python's SortedContainers).
///
/// Each chunk holds at most ``maxChunkCount`` keys; a lookup binary-searches the chunks by their last key, then the
/// chunk. Insert and remove are O(log n + chunk size); a range scan is O(log n + k). At a million keys there are
/// about 2,000–4,000 chunks, so splitting a chunk moves a few thousand references at most, and nothing is ever
/// rebuilt wholesale.
///
/// Keys compare with ``KeyOrder`` (unsigned bytes). Not thread-safe; owned by its store.
public struct SortedKeyMap<Value> {
    /// One run of consecutive keys and their values, both sorted by key and never empty.
    struct Chunk {
        var keys: [[UInt8]]
        var values: [Value]
    }

    /// Chunks in key order; empty when the map is empty.
    private var chunks: [Chunk] = []
    /// Total number of keys.
    public private(set) var count = 0

    /// A chunk that grows past this splits in two.
    public let maxChunkCount: Int

    public init(maxChunkCount: Int = 1024) {
        precondition(maxChunkCount >= 4)
        self.maxChunkCount = maxChunkCount
    }

    public var isEmpty: Bool { count == 0 }

    /// The chunk that holds `key` or where it would be inserted: the first whose last key is ≥ `key`, else the last.
    private func chunkIndex(for key: [UInt8]) -> Int {
        var low = 0
        var high = chunks.count - 1
        while low < high {
            let mid = (low + high) / 2
            if KeyOrder.less(chunks[mid].keys[chunks[mid].keys.count - 1], key) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Position of the first key ≥ `key` in `keys`.
    private static func lowerBound(_ keys: [[UInt8]], _ key: [UInt8]) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if KeyOrder.less(keys[mid], key) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    public subscript(key: [UInt8]) -> Value? {
        get {
            guard !chunks.isEmpty else { return nil }
            let c = chunkIndex(for: key)
            let i = Self.lowerBound(chunks[c].keys, key)
            guard i < chunks[c].keys.count, chunks[c].keys[i] == key else { return nil }
            return chunks[c].values[i]
        }
        set {
            if let newValue { insert(key, newValue) } else { remove(key) }
        }
    }

    /// Inserts or replaces the value for `key`.
    public mutating func insert(_ key: [UInt8], _ value: Value) {
        guard !chunks.isEmpty else {
            chunks = [Chunk(keys: [key], values: [value])]
            count = 1
            return
        }
        let c = chunkIndex(for: key)
        let i = Self.lowerBound(chunks[c].keys, key)
        if i < chunks[c].keys.count, chunks[c].keys[i] == key {
            chunks[c].values[i] = value
            return
        }
        chunks[c].keys.insert(key, at: i)
        chunks[c].values.insert(value, at: i)
        count += 1
        if chunks[c].keys.count > maxChunkCount {
            let half = chunks[c].keys.count / 2
            let upper = Chunk(keys: Array(chunks[c].keys[half...]), values: Array(chunks[c].values[half...]))
            chunks[c].keys.removeSubrange(half...)
            chunks[c].values.removeSubrange(half...)
            chunks.insert(upper, at: c + 1)
        }
    }

    /// Removes `key`; returns its value if it was present.
    @discardableResult
    public mutating func remove(_ key: [UInt8]) -> Value? {
        guard !chunks.isEmpty else { return nil }
        let c = chunkIndex(for: key)
        let i = Self.lowerBound(chunks[c].keys, key)
        guard i < chunks[c].keys.count, chunks[c].keys[i] == key else { return nil }
        chunks[c].keys.remove(at: i)
        let value = chunks[c].values.remove(at: i)
        count -= 1
        if chunks[c].keys.isEmpty {
            chunks.remove(at: c)
        } else if c + 1 < chunks.count, chunks[c].keys.count + chunks[c + 1].keys.count <= maxChunkCount / 2 {
            // Merge small neighbours so that many removals do not leave a long tail of tiny chunks.
            let next = chunks.remove(at: c + 1)
            chunks[c].keys += next.keys
            chunks[c].values += next.values
        }
        return value
    }

    /// Calls `body` for every key in `[lowerBound, upperBound)` in ascending order (`upperBound` nil: no upper
    /// limit) until it returns false.
    public func forEach(from lowerBound: [UInt8], upTo upperBound: [UInt8]?, _ body: ([UInt8], Value) -> Bool) {
        guard !chunks.isEmpty else { return }
        var c = chunkIndex(for: lowerBound)
        var i = Self.lowerBound(chunks[c].keys, lowerBound)
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
    public func forEach(_ body: ([UInt8], Value) -> Void) {
        for chunk in chunks {
            for i in chunk.keys.indices { body(chunk.keys[i], chunk.values[i]) }
        }
    }
}
