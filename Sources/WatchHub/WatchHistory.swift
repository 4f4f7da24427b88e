public import MVCC

/// Reads committed history for watchers that are behind the in-memory log (the store's backend, under the
/// store's own lock). Implemented by the service layer.
public protocol WatchHistory: Sendable {
    /// The events of revisions `range.lowerBound` through at most `range.upperBound`, grouped by revision in
    /// ascending order, each event with its previous version when one exists; stops after about `maxBytes` of
    /// values at a revision boundary.
    ///
    /// - Returns: the revisions read and the last revision covered (every revision up to it is included, even
    ///   those without events for anyone).
    func revisions(in range: ClosedRange<Int64>, maxBytes: Int) throws -> (revisions: [(Int64, [Event])], through: Int64)
}
