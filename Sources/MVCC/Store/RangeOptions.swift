/// How a range read selects, orders and trims keys (the store-level part of `RangeRequest`).
public struct RangeOptions: Hashable, Sendable {
    /// The order of results.
    public enum SortOrder: Int32, Sendable {
        case none = 0
        case ascend = 1
        case descend = 2
    }

    /// What results are ordered by.
    public enum SortTarget: Int32, Sendable {
        case key = 0
        case version = 1
        case create = 2
        case mod = 3
        case value = 4
    }

    /// At most this many kvs (0: no limit).
    public var limit: Int64 = 0
    /// The revision to read at; ≤ 0 means the current revision.
    public var revision: Int64 = 0
    /// Return only the count.
    public var countOnly = false
    public var sortOrder: SortOrder = .none
    public var sortTarget: SortTarget = .key
    /// Inclusive bounds on `mod_revision` / `create_revision`; 0 means unbounded.
    public var minModRevision: Int64 = 0
    public var maxModRevision: Int64 = 0
    public var minCreateRevision: Int64 = 0
    public var maxCreateRevision: Int64 = 0

    public init() {}

    /// Whether results must be sorted other than by ascending key.
    var needsSort: Bool {
        !(sortTarget == .key && (sortOrder == .none || sortOrder == .ascend))
    }

    /// Whether any revision filter is set.
    var hasFilters: Bool {
        minModRevision != 0 || maxModRevision != 0 || minCreateRevision != 0 || maxCreateRevision != 0
    }
}

/// The answer to a range read.
public struct RangeResult: Hashable, Sendable {
    /// The kvs, after filters, sorting and limit.
    public var kvs: [KeyValue]
    /// Keys in the range at the read revision, before limit and filters.
    public var count: Int64
    /// Whether the limit cut off more matching kvs.
    public var more: Bool
}

/// The index half of a range read (``KVStore/plan(_:options:)``): the count, and the records that make the result,
/// in its order; loading them (``KVStore/load(_:)``) and ``result(_:)`` finish the read.
public struct RangePlan: Sendable {
    /// Keys in the range at the read revision, before limit and filters.
    public let count: Int64
    /// Whether the limit cut off more matching kvs (for a sort by value: decided once the values are read).
    let more: Bool
    /// The records to load, in result order (for a sort by value: every match, in key order).
    public let revisions: [Revision]
    /// For a sort by value: the direction, and the limit to apply after sorting.
    let valueOrder: (descending: Bool, limit: Int)?

    /// The read's answer from the records loaded for ``revisions`` (in that order).
    public func result(_ loaded: [KeyValue]) -> RangeResult {
        guard let (descending, limit) = valueOrder else { return RangeResult(kvs: loaded, count: count, more: more) }
        var kvs = loaded
        // Go's sort, as etcd's: equal values come back in its order.
        GoSort.sort(&kvs) { descending ? KeyOrder.less($1.value, $0.value) : KeyOrder.less($0.value, $1.value) }
        let more = kvs.count > limit
        if more { kvs.removeSubrange(limit...) }
        return RangeResult(kvs: kvs, count: count, more: more)
    }
}
