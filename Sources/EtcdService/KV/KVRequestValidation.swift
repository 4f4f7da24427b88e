import EtcdProto
import MVCC

/// The checks etcd makes on KV requests before touching the store (etcd's `v3rpc/key.go`), in etcd's order, so
/// that a request with several faults gets the same error as from etcd.
enum KVRequestValidation {
    /// The most operations a transaction branch may hold unless `--max-txn-ops` says otherwise (etcd's default).
    public static let defaultMaxTxnOps = 128

    static func check(_ request: RangeRequest) throws(EtcdError) {
        if request.key.isEmpty { throw .emptyKey }
        guard (0...2).contains(request.sortOrder.rawValue), (0...4).contains(request.sortTarget.rawValue) else {
            throw .invalidSortOption
        }
    }

    static func check(_ request: PutRequest) throws(EtcdError) {
        if request.key.isEmpty { throw .emptyKey }
        if request.ignoreValue && !request.value.isEmpty { throw .valueProvided }
        if request.ignoreLease && request.lease != 0 { throw .leaseProvided }
    }

    static func check(_ request: DeleteRangeRequest) throws(EtcdError) {
        if request.key.isEmpty { throw .emptyKey }
    }

    /// Size limits, empty keys and per-op checks, recursively; then the duplicate-key rules per branch.
    static func check(_ request: TxnRequest, maxOps: Int = defaultMaxTxnOps) throws(EtcdError) {
        try checkShape(request, maxOps: maxOps)
        _ = try checkIntervals(request.success)
        _ = try checkIntervals(request.failure)
    }

    private static func checkShape(_ request: TxnRequest, maxOps: Int) throws(EtcdError) {
        let ops = max(request.compare.count, request.success.count, request.failure.count)
        if ops > maxOps { throw .tooManyOps }
        for compare in request.compare where compare.key.isEmpty { throw .emptyKey }
        for op in request.success { try check(op, maxOps: maxOps - ops) }
        for op in request.failure { try check(op, maxOps: maxOps - ops) }
    }

    private static func check(_ op: RequestOp, maxOps: Int) throws(EtcdError) {
        switch op {
        case .range(let request): try check(request)
        case .put(let request): try check(request)
        case .deleteRange(let request): try check(request)
        case .txn(let request): try checkShape(request, maxOps: maxOps)
        case .none: throw .keyNotFound
        }
    }

    /// A deleted interval as etcd's duplicate check sees it: `[key, rangeEnd)` compared as byte strings, or the
    /// single key. A from-key delete (`rangeEnd == "\0"`) is an empty interval here, exactly as in etcd.
    private struct DeletedInterval {
        var key: [UInt8]
        var rangeEnd: [UInt8]

        func contains(_ point: [UInt8]) -> Bool {
            if rangeEnd.isEmpty { return point == key }
            return !KeyOrder.less(point, key) && KeyOrder.less(point, rangeEnd)
        }
    }

    /// etcd's `checkIntervals`: within one branch (and the branches of its nested txns) no key may be Put twice,
    /// nor Put while a delete of the same branch covers it. A key Put in both the then- and else-branch of one
    /// nested txn is fine, since only one of them runs.
    private static func checkIntervals(_ ops: [RequestOp]) throws(EtcdError) -> (puts: Set<[UInt8]>, dels: [DeletedInterval]) {
        var dels: [DeletedInterval] = []
        for case .deleteRange(let request) in ops {
            dels.append(DeletedInterval(key: request.key, rangeEnd: request.rangeEnd))
        }
        func covered(_ key: [UInt8]) -> Bool { dels.contains { $0.contains(key) } }

        var puts: Set<[UInt8]> = []
        for case .txn(let nested) in ops {
            let then = try checkIntervals(nested.success)
            let otherwise = try checkIntervals(nested.failure)
            for key in then.puts {
                if puts.contains(key) || covered(key) { throw .duplicateKey }
                puts.insert(key)
            }
            for key in otherwise.puts {
                if puts.contains(key) && !then.puts.contains(key) { throw .duplicateKey }
                if covered(key) { throw .duplicateKey }
                puts.insert(key)
            }
            dels += then.dels
            dels += otherwise.dels
        }
        for case .put(let request) in ops {
            if puts.contains(request.key) || covered(request.key) { throw .duplicateKey }
            puts.insert(request.key)
        }
        return (puts, dels)
    }
}
