extension KVStore {
    /// Compacts history at `revision`: reads below it fail from now on, and every record no read at `revision` or
    /// later can reach is deleted from the backend. Keys whose whole history went are dropped from the index.
    ///
    /// - Throws: ``MVCCError/compacted`` when `revision` is not above the current compaction point,
    ///   ``MVCCError/futureRevision`` when it is above the current revision.
    public func compact(at revision: Int64) throws(MVCCError) {
        if revision <= compactRevision { throw .compacted }
        if revision > currentRevision { throw .futureRevision }
        let dropped = compactIndex(at: revision)
        if pinnedReads > 0 {
            // A read in parts may still need these records; they go once it ends (``unpinRead()``).
            deferredCompactions.append((revision, dropped))
        } else {
            try backend.compact(at: revision, dropping: dropped)
        }
        compactRevision = revision
    }

    /// Drops from the key index every revision no read at `revision` or later can reach, and keys left with no
    /// history; returns the dropped revisions, whose records the backend may delete.
    func compactIndex(at revision: Int64) -> [Revision] {
        var dropped: [Revision] = []
        var emptied: [[UInt8]] = []
        index.forEach { key, keyIndex in
            dropped += keyIndex.compact(at: revision)
            if keyIndex.isEmpty { emptied.append(key) }
        }
        for key in emptied { index.remove(key) }
        return dropped
    }
}
