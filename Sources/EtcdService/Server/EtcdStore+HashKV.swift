import Dispatch
import EtcdProto
import MVCC

extension EtcdStore {
    /// Main revisions read per lock hold while hashing, so writes wait for one batch at most, never the whole scan.
    static let hashBatchRevisions: Int64 = 10_000

    /// `Maintenance.HashKV` as etcd computes it (`mvcc.HashByRev`): a CRC-32C over the bucket name `key`, then, for
    /// every stored change up to `revision` in revision order, its bbolt key (main and sub revision as 8 big-endian
    /// bytes each around `_`, and `t` after a tombstone) and its `mvccpb.KeyValue` bytes (a tombstone's holds only
    /// the key). Changes at or below the compaction point count only if they are what a read at `revision` sees;
    /// when nothing exists there, etcd counts every change its compaction kept. Vigil and etcd fed the same writes
    /// give the same hash (etcd's once its compaction has deleted its rows: until then it counts those too).
    ///
    /// The scan reads the history in batches of ``hashBatchRevisions`` revisions, each under the lock; a compaction
    /// meanwhile restarts it. Call it off the event loop: it reads the whole history.
    func hashKV(_ request: HashKVRequest) throws(EtcdError) -> HashKVResponse {
        for _ in 0..<3 {
            lock.lock()
            let current = durableRevision
            let compactRevision = store.compactRevision
            if request.revision > 0 && request.revision <= compactRevision {
                lock.unlock()
                throw .compacted
            }
            if request.revision > current {
                lock.unlock()
                throw .futureRevision
            }
            let revision = request.revision > 0 ? request.revision : current
            // The changes at or below the compaction point that count: what a read at `revision` sees there; when
            // nothing exists at `revision`, every one etcd's compaction keeps, which is what a read at the
            // compaction point sees (Vigil keeps a few more, for prev_kv and the DELETE at that point).
            var counted = store.visibleRevisions(at: revision)
            if counted.isEmpty && compactRevision > 0 { counted = store.visibleRevisions(at: compactRevision) }
            lock.unlock()
            var crc = CRC32C()
            crc.update("key".utf8)
            var low: Int64 = 1
            var compactedMeanwhile = false
            while low <= revision && !compactedMeanwhile {
                let high = min(revision, low + Self.hashBatchRevisions - 1)
                let records = try batch(low...high, unlessCompactedPast: compactRevision)
                guard let records else {
                    compactedMeanwhile = true
                    break
                }
                for record in records {
                    if record.revision.main <= compactRevision && !counted.contains(record.revision) { continue }
                    Self.hashRow(record, into: &crc)
                }
                low = high + 1
            }
            if compactedMeanwhile { continue }
            return HashKVResponse(
                header: identity.header(revision: current), hash: crc.value, compactRevision: compactRevision,
                hashRevision: revision)
        }
        throw .internal("vigil: HashKV: compactions kept overtaking the scan; try again")
    }

    /// The stored changes of main revisions `range`, read under the lock; nil if the store was compacted past
    /// `compactRevision` meanwhile.
    private func batch(_ range: ClosedRange<Int64>, unlessCompactedPast compactRevision: Int64) throws(EtcdError)
        -> [RevisionRecord]?
    {
        lock.lock()
        defer { lock.unlock() }
        guard store.compactRevision == compactRevision else { return nil }
        do {
            return try store.records(mainRevisions: range)
        } catch {
            throw EtcdError(error)
        }
    }

    /// One change as etcd's backend holds it: its bbolt key, then its value.
    private static func hashRow(_ record: RevisionRecord, into crc: inout CRC32C) {
        var key: [UInt8] = []
        key.reserveCapacity(18)
        for shift in stride(from: 56, through: 0, by: -8) { key.append(UInt8(truncatingIfNeeded: record.revision.main >> shift)) }
        key.append(UInt8(ascii: "_"))
        for shift in stride(from: 56, through: 0, by: -8) { key.append(UInt8(truncatingIfNeeded: record.revision.sub >> shift)) }
        let kv: Mvccpb.KeyValue
        if record.isTombstone {
            key.append(UInt8(ascii: "t"))
            kv = Mvccpb.KeyValue(key: record.kv.key)
        } else {
            kv = Mvccpb.KeyValue(
                key: record.kv.key, createRevision: record.kv.createRevision, modRevision: record.revision.main,
                version: record.kv.version, value: record.kv.value, lease: record.kv.lease)
        }
        crc.update(key)
        crc.update(kv.protobufBytes())
    }

    /// Runs ``hashKV(_:)`` on a background queue and hands the outcome to `reply` there.
    func hashKV(_ request: HashKVRequest, reply: @escaping @Sendable (Result<HashKVResponse, EtcdError>) -> Void) {
        DispatchQueue.global().async {
            do throws(EtcdError) {
                reply(.success(try self.hashKV(request)))
            } catch {
                reply(.failure(error))
            }
        }
    }
}
