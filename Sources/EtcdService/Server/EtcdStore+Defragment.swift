import EtcdProto
import MVCC

extension EtcdStore {
    /// `Maintenance.Defragment`: rewrites the data directory's database without the free pages that deletes and
    /// compaction left, so that `dbSize` falls back towards `dbSizeInUse`. It runs on the committer thread between
    /// flushes: writes that arrive meanwhile wait for it (as etcd holds writes while it defragments), reads and
    /// watchers carry on. `reply` runs on that thread once it is done; at once for a backend without files.
    func defragment(reply: @escaping @Sendable (Result<DefragmentResponse, EtcdError>) -> Void) {
        guard let committer else {
            reply(.success(DefragmentResponse(header: identity.header(revision: currentRevision))))
            return
        }
        committer.defragment { [self] result in
            switch result {
            case .success:
                reply(.success(DefragmentResponse(header: identity.header(revision: currentRevision))))
            case .failure(let error):
                // The database is as it was; the disk may be too full for the copy the rebuild needs.
                reply(.failure(.internal("vigil: defragmenting the data directory failed: \(error)")))
            }
        }
    }
}
