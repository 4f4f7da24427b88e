import EtcdProto
import MVCC

/// Applies validated KV requests to the store with etcd's semantics (etcd's `etcdserver/txn` package): range
/// options, Put's ignore flags and prev_kv, DeleteRange, transactions with compares, and Compact.
///
/// Runs under the ``EtcdStore`` lock; it never locks or does I/O of its own.
struct KVApplier {
    /// Fills every response header.
    let identity: ClusterIdentity
    /// Whether a lease ID names a live lease. (No leases exist until the Lease service lands.)
    let leaseExists: (Int64) -> Bool

    // MARK: Range

    /// The store-level options of a range request, with etcd's quirks: results are sorted ascending by the target
    /// when a non-key target comes with order NONE, and when neither sorting nor filters are asked for the limit is
    /// applied (as limit+1, to compute `more`) before that sort.
    static func options(for request: RangeRequest) -> RangeOptions {
        var options = RangeOptions()
        options.limit = request.limit
        options.revision = request.revision
        options.countOnly = request.countOnly
        options.sortOrder = RangeOptions.SortOrder(rawValue: request.sortOrder.rawValue) ?? .none
        options.sortTarget = RangeOptions.SortTarget(rawValue: request.sortTarget.rawValue) ?? .key
        options.minModRevision = request.minModRevision
        options.maxModRevision = request.maxModRevision
        options.minCreateRevision = request.minCreateRevision
        options.maxCreateRevision = request.maxCreateRevision
        return options
    }

    /// The index half of a read as of `readable`, the newest durable revision (later, not yet durable revisions
    /// are "future"); ``rangeResponse(_:request:revision:)`` answers once its records are loaded.
    func planRange(_ request: RangeRequest, in store: KVStore, at readable: Int64) throws(EtcdError) -> RangePlan {
        var options = Self.options(for: request)
        if options.revision > readable { throw .futureRevision }
        if options.revision <= 0 { options.revision = readable }
        do {
            return try store.plan(KeyRange(key: request.key, rangeEnd: request.rangeEnd), options: options)
        } catch {
            throw EtcdError(error)
        }
    }

    /// The answer to a read whose header carries `revision`.
    func rangeResponse(_ result: RangeResult, request: RangeRequest, revision: Int64) -> RangeResponse {
        response(for: result, request: request, revision: revision, nested: false)
    }

    private func response(for result: RangeResult, request: RangeRequest, revision: Int64, nested: Bool) -> RangeResponse {
        RangeResponse(
            header: header(revision, nested: nested),
            kvs: result.kvs.map { Mvccpb.KeyValue($0, keysOnly: request.keysOnly) }, more: result.more,
            count: result.count)
    }

    /// A top-level header carries the identity; headers nested in a txn response carry only the revision.
    private func header(_ revision: Int64, nested: Bool) -> ResponseHeader {
        nested ? ResponseHeader(revision: revision) : identity.header(revision: revision)
    }

    // MARK: Writes

    /// Checks what a Put needs from the store before anything is written: a live lease, and an existing key for
    /// the ignore flags.
    private func checkPut(_ request: PutRequest, existing: () throws(MVCCError) -> KeyValue?) throws(EtcdError) {
        if request.lease != 0 && !leaseExists(request.lease) { throw .leaseNotFound }
        if request.ignoreValue || request.ignoreLease {
            let current: KeyValue?
            do { current = try existing() } catch { throw EtcdError(error) }
            if current == nil { throw .keyNotFound }
        }
    }

    private func applyPut(_ request: PutRequest, in txn: KVWriteTxn, nested: Bool) throws(MVCCError) -> PutResponse {
        var value = request.value
        var lease = request.lease
        if request.ignoreValue || request.ignoreLease, let current = try txn.get(request.key) {
            if request.ignoreValue { value = current.value }
            if request.ignoreLease { lease = current.lease }
        }
        let previous = try txn.put(key: request.key, value: value, lease: lease)
        return PutResponse(
            header: header(txn.revision, nested: nested),
            prevKV: request.prevKV ? previous.map { Mvccpb.KeyValue($0) } : nil)
    }

    private func applyDelete(_ request: DeleteRangeRequest, in txn: KVWriteTxn, nested: Bool) throws(MVCCError)
        -> DeleteRangeResponse
    {
        let deleted = try txn.deleteRange(KeyRange(key: request.key, rangeEnd: request.rangeEnd))
        return DeleteRangeResponse(
            header: header(txn.readRevision, nested: nested), deleted: Int64(deleted.count),
            prevKVs: request.prevKV ? deleted.map { Mvccpb.KeyValue($0) } : [])
    }

    /// A Put as its own write.
    func put(_ request: PutRequest, in store: KVStore) throws(EtcdError) -> (PutResponse, [Event]) {
        try checkPut(request) { () throws(MVCCError) in try store.get(request.key, at: store.currentRevision) }
        let txn = store.beginWrite()
        do {
            let response = try applyPut(request, in: txn, nested: false)
            let outcome = try txn.commit()
            return (response, outcome.events)
        } catch {
            txn.discard()
            throw EtcdError(error)
        }
    }

    /// A DeleteRange as its own write (no revision when it deletes nothing).
    func deleteRange(_ request: DeleteRangeRequest, in store: KVStore) throws(EtcdError) -> (DeleteRangeResponse, [Event]) {
        let txn = store.beginWrite()
        do {
            var response = try applyDelete(request, in: txn, nested: false)
            let outcome = try txn.commit()
            response.header = identity.header(revision: outcome.revision)
            return (response, outcome.events)
        } catch {
            txn.discard()
            throw EtcdError(error)
        }
    }

    // MARK: Txn

    /// Runs a validated transaction: compares (of this txn and of every nested one on the chosen path) against the
    /// state before any change, then a check of the chosen ops against that same state, then the ops in order as
    /// one write.
    func txn(_ request: TxnRequest, in store: KVStore) throws(EtcdError) -> (TxnResponse, [Event]) {
        let path = try choosePath(request, store: store)
        try checkOps(request, path: path, store: store)
        let txn = store.beginWrite()
        do {
            var response = try execute(request, path: path, in: txn, nested: false)
            let outcome = try txn.commit()
            response.header = identity.header(revision: outcome.revision)
            return (response, outcome.events)
        } catch {
            txn.discard()
            throw EtcdError(error)
        }
    }

    /// Which branch each transaction on the path takes: this txn's result, and the paths of the nested txns of the
    /// chosen branch, in op order.
    struct TxnPath {
        var succeeded: Bool
        var nested: [TxnPath]
    }

    private func choosePath(_ request: TxnRequest, store: KVStore) throws(EtcdError) -> TxnPath {
        var succeeded = true
        for compare in request.compare where !(try evaluate(compare, store: store)) {
            succeeded = false
            break
        }
        var nested: [TxnPath] = []
        for case .txn(let inner) in succeeded ? request.success : request.failure {
            nested.append(try choosePath(inner, store: store))
        }
        return TxnPath(succeeded: succeeded, nested: nested)
    }

    /// etcd's `applyCompare`: the compare holds for every key of its range; with no key, a VALUE compare fails and
    /// the others compare against an all-zero key.
    private func evaluate(_ compare: Compare, store: KVStore) throws(EtcdError) -> Bool {
        let result: RangeResult
        do {
            result = try store.range(KeyRange(key: compare.key, rangeEnd: compare.rangeEnd))
        } catch {
            throw EtcdError(error)
        }
        if result.kvs.isEmpty {
            if compare.target == .value { return false }
            return holds(compare, against: KeyValue(key: compare.key))
        }
        return result.kvs.allSatisfy { holds(compare, against: $0) }
    }

    private func holds(_ compare: Compare, against kv: KeyValue) -> Bool {
        let order: Int
        switch (compare.target, compare.operand) {
        case (.value, let operand):
            // An operand of another kind than the target compares as zero / empty, as in etcd.
            var value: [UInt8] = []
            if case .value(let given) = operand { value = given }
            order = kv.value == value ? 0 : (KeyOrder.less(kv.value, value) ? -1 : 1)
        case (.create, .createRevision(let value)?): order = Self.order(kv.createRevision, value)
        case (.create, _): order = Self.order(kv.createRevision, 0)
        case (.mod, .modRevision(let value)?): order = Self.order(kv.modRevision, value)
        case (.mod, _): order = Self.order(kv.modRevision, 0)
        case (.version, .version(let value)?): order = Self.order(kv.version, value)
        case (.version, _): order = Self.order(kv.version, 0)
        case (.lease, .lease(let value)?): order = Self.order(kv.lease, value)
        case (.lease, _): order = Self.order(kv.lease, 0)
        default: order = 0
        }
        switch compare.result {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .greater: return order > 0
        case .less: return order < 0
        default: return true
        }
    }

    private static func order(_ lhs: Int64, _ rhs: Int64) -> Int { lhs < rhs ? -1 : (lhs > rhs ? 1 : 0) }

    /// etcd's `checkRequests` on the chosen path, against the state before the txn: ranges at valid revisions,
    /// Puts with live leases and, with ignore flags, existing keys.
    private func checkOps(_ request: TxnRequest, path: TxnPath, store: KVStore) throws(EtcdError) {
        var nested = path.nested.makeIterator()
        for op in path.succeeded ? request.success : request.failure {
            switch op {
            case .range(let range):
                if range.revision > store.currentRevision { throw .futureRevision }
                if range.revision > 0 && range.revision < store.compactRevision { throw .compacted }
            case .put(let put):
                try checkPut(put) { () throws(MVCCError) in try store.get(put.key, at: store.currentRevision) }
            case .txn(let inner):
                try checkOps(inner, path: nested.next()!, store: store)
            case .deleteRange, .none:
                break
            }
        }
    }

    private func execute(_ request: TxnRequest, path: TxnPath, in txn: KVWriteTxn, nested: Bool) throws(MVCCError)
        -> TxnResponse
    {
        var responses: [ResponseOp] = []
        var nestedPaths = path.nested.makeIterator()
        for op in path.succeeded ? request.success : request.failure {
            switch op {
            case .range(let range):
                let result = try txn.range(
                    KeyRange(key: range.key, rangeEnd: range.rangeEnd), options: Self.options(for: range))
                responses.append(.range(response(for: result, request: range, revision: txn.readRevision, nested: true)))
            case .put(let put):
                responses.append(.put(try applyPut(put, in: txn, nested: true)))
            case .deleteRange(let delete):
                responses.append(.deleteRange(try applyDelete(delete, in: txn, nested: true)))
            case .txn(let inner):
                responses.append(.txn(try execute(inner, path: nestedPaths.next()!, in: txn, nested: true)))
            case .none:
                break
            }
        }
        // etcd leaves a nested txn's header empty (present, all zero); the top-level header is filled after commit.
        return TxnResponse(header: ResponseHeader(), succeeded: path.succeeded, responses: responses)
    }

    // MARK: Compact

    func compact(_ request: CompactionRequest, in store: KVStore) throws(EtcdError) -> CompactionResponse {
        do {
            try store.compact(at: request.revision)
        } catch {
            throw EtcdError(error)
        }
        return CompactionResponse(header: identity.header(revision: store.currentRevision))
    }
}
