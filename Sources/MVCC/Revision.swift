/// A point in the store's history: the main revision of a write (one per Put, DeleteRange or Txn that changed
/// something) and the sub-revision of one change inside it, in execution order.
///
/// Ordered by main, then sub. Only main revisions appear on the wire; sub-revisions order events within a revision.
public struct Revision: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The store-wide revision of the write.
    public var main: Int64
    /// The index of this change within its write, from 0.
    public var sub: Int64

    public init(main: Int64, sub: Int64 = 0) {
        self.main = main
        self.sub = sub
    }

    public static func < (lhs: Revision, rhs: Revision) -> Bool {
        lhs.main != rhs.main ? lhs.main < rhs.main : lhs.sub < rhs.sub
    }

    public var description: String { "\(main).\(sub)" }
}
