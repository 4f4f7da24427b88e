/// The keys a request names with `key` and `range_end`, as etcd interprets them:
///
/// - `rangeEnd` empty: exactly `key`;
/// - `rangeEnd == [0]`: every key ≥ `key` (and with `key == [0]`, every key);
/// - otherwise the half-open interval `[key, rangeEnd)`, empty when `key ≥ rangeEnd`.
///
/// Keys compare as raw bytes (unsigned, lexicographic), never as text.
public struct KeyRange: Hashable, Sendable {
    public var key: [UInt8]
    public var rangeEnd: [UInt8]

    public init(key: [UInt8], rangeEnd: [UInt8] = []) {
        self.key = key
        self.rangeEnd = rangeEnd
    }

    /// Whether the range names one key.
    public var isSingleKey: Bool { rangeEnd.isEmpty }

    /// Whether the range is open above (`rangeEnd == "\0"`).
    public var isFromKey: Bool { rangeEnd == [0] }

    /// The exclusive upper bound, or nil when the range is open above. Meaningless for a single key.
    public var upperBound: [UInt8]? { isFromKey ? nil : rangeEnd }

    /// Whether no key can fall in the range (an interval whose end is not above its start).
    public var isEmpty: Bool {
        !isSingleKey && !isFromKey && !KeyOrder.less(key, rangeEnd)
    }

    /// Whether `candidate` falls in the range.
    public func contains(_ candidate: [UInt8]) -> Bool {
        if isSingleKey { return candidate == key }
        if KeyOrder.less(candidate, key) { return false }
        if let upper = upperBound { return KeyOrder.less(candidate, upper) }
        return true
    }
}

/// Byte-wise unsigned lexicographic order of keys (memcmp order).
public enum KeyOrder {
    @inlinable
    public static func less(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        let count = Swift.min(lhs.count, rhs.count)
        var index = 0
        while index < count {
            let a = lhs[index]
            let b = rhs[index]
            if a != b { return a < b }
            index += 1
        }
        return lhs.count < rhs.count
    }
}
