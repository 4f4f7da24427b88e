import MVCC

extension EtcdStore {
    /// Writes a consistent copy of the durable data to a new file and returns its path (the caller removes it):
    /// `Maintenance.Snapshot`'s source. Runs without the store's lock, on any thread; writes, reads and watches go on.
    func writeSnapshot() throws(EtcdError) -> String {
        do {
            return try backend.writeSnapshot()
        } catch .backendFull(let reason) {
            throw .internal("vigil: writing the snapshot failed, the disk is full: \(reason)")
        } catch {
            throw .internal("vigil: writing the snapshot failed: \(error)")
        }
    }
}
