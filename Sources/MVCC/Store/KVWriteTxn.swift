/// One write to a ``KVStore``: every change made through it shares one new main revision (sub-revisions in call
/// order), and reads through it see its own changes. If nothing changed, committing consumes no revision.
///
/// Changes go into the key index at once (so later reads of the same transaction see them) and their records are
/// held here until ``commit()`` hands them to the backend in one call; if that fails, every index change is taken
/// back and the store is as before. Callers validate a request fully before making its first change.
public final class KVWriteTxn {
    /// The store written to. The store outlives its transactions.
    private unowned let store: KVStore
    /// The main revision this transaction's changes get.
    public let revision: Int64
    /// The next sub-revision.
    private var nextSub: Int64 = 0
    /// Records made so far, in sub-revision order: the one of sub-revision `i` is `records[i]`, which is how reads
    /// in this transaction find values not yet in the backend.
    private var records: [RevisionRecord] = []
    /// Key indexes changed, in change order, and whether each was created by this transaction (for rollback).
    private var touched: [(keyIndex: KeyIndex, isNew: Bool)] = []
    /// The changes as watchers will see them.
    private var events: [Event] = []
    /// Set once committed or discarded.
    private var finished = false

    init(store: KVStore) {
        self.store = store
        self.revision = store.currentRevision + 1
    }

    /// Whether any change was made.
    public var hasChanges: Bool { !records.isEmpty }

    /// The revision reads see: this transaction's own if it changed something, else the store's current one.
    public var readRevision: Int64 { hasChanges ? revision : store.currentRevision }

    /// Reads through this transaction (seeing its own changes).
    public func range(_ range: KeyRange, options: RangeOptions = RangeOptions()) throws(MVCCError) -> RangeResult {
        try store.range(range, options: options, latest: readRevision, pending: records)
    }

    /// The key's current version as this transaction sees it.
    public func get(_ key: [UInt8]) throws(MVCCError) -> KeyValue? {
        try current(in: store.index[key])
    }

    /// The current version of the key `keyIndex` tracks, as this transaction sees it.
    private func current(in keyIndex: KeyIndex?) throws(MVCCError) -> KeyValue? {
        guard let visible = keyIndex?.visible(at: revision) else { return nil }
        if visible.modified.main == revision { return records[Int(visible.modified.sub)].kv }
        return try store.backend.record(at: visible.modified)?.kv
    }

    /// Writes `value` (with `lease`) to `key`. Returns the previous version, if the key existed.
    @discardableResult
    public func put(key: [UInt8], value: [UInt8], lease: Int64) throws(MVCCError) -> KeyValue? {
        precondition(!finished, "write after commit")
        precondition(!key.isEmpty, "empty key")
        // One index lookup serves both the previous version and the key's history.
        let found = store.index[key]
        let previous = try current(in: found)
        let keyIndex: KeyIndex
        var isNew = false
        if let existing = found {
            keyIndex = existing
        } else {
            keyIndex = KeyIndex(key: key)
            store.index.insert(key, keyIndex)
            isNew = true
        }
        let at = Revision(main: revision, sub: nextSub)
        nextSub += 1
        let kv = KeyValue(
            key: key, createRevision: previous?.createRevision ?? revision, modRevision: revision,
            version: (previous?.version ?? 0) + 1, value: value, lease: lease)
        keyIndex.put(at: at)
        touched.append((keyIndex, isNew))
        append(RevisionRecord(revision: at, kv: kv, isTombstone: false))
        events.append(Event(kind: .put, kv: kv, prevKV: previous))
        return previous
    }

    /// Deletes every live key in `range`, in ascending key order. Returns their last versions.
    @discardableResult
    public func deleteRange(_ range: KeyRange) throws(MVCCError) -> [KeyValue] {
        precondition(!finished, "write after commit")
        var live: [KeyIndex] = []
        let at = revision
        store.visit(range) { _, keyIndex in
            if keyIndex.visible(at: at) != nil { live.append(keyIndex) }
            return true
        }
        var deleted: [KeyValue] = []
        deleted.reserveCapacity(live.count)
        for keyIndex in live {
            guard let previous = try get(keyIndex.key) else { continue }
            let change = Revision(main: revision, sub: nextSub)
            nextSub += 1
            keyIndex.tombstone(at: change)
            touched.append((keyIndex, false))
            let kv = KeyValue(key: keyIndex.key, modRevision: revision)
            append(RevisionRecord(revision: change, kv: kv, isTombstone: true))
            events.append(Event(kind: .delete, kv: kv, prevKV: previous))
            deleted.append(previous)
        }
        return deleted
    }

    private func append(_ record: RevisionRecord) {
        assert(record.revision.sub == Int64(records.count))
        records.append(record)
    }

    /// What a committed write produced.
    public struct Outcome: Sendable {
        /// The new revision, or the unchanged current one when nothing changed.
        public var revision: Int64
        /// The changes, in sub-revision order (empty when nothing changed).
        public var events: [Event]
    }

    /// Stores the changes in the backend and makes them current.
    ///
    /// - Throws: the backend's error; the store is then exactly as before the transaction.
    public func commit() throws(MVCCError) -> Outcome {
        precondition(!finished, "commit twice")
        finished = true
        store.writeInProgress = false
        guard hasChanges else { return Outcome(revision: store.currentRevision, events: []) }
        do {
            try store.backend.commit(revision: revision, records: records)
        } catch {
            rollBack()
            throw error
        }
        store.currentRevision = revision
        return Outcome(revision: revision, events: events)
    }

    /// Abandons the transaction, taking back every change.
    public func discard() {
        guard !finished else { return }
        finished = true
        store.writeInProgress = false
        rollBack()
    }

    private func rollBack() {
        for (keyIndex, isNew) in touched.reversed() {
            keyIndex.undoLastChange()
            if isNew && keyIndex.isEmpty { store.index.remove(keyIndex.key) }
        }
        touched.removeAll()
        records.removeAll()
        events.removeAll()
    }
}
