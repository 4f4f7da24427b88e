/// What a backend's files take on disk: all of it, and the part that holds data (the rest is free pages a later write
/// reuses). etcd reports the same two figures of its bolt file as dbSize and dbSizeInUse.
public struct StorageSize: Sendable, Equatable {
    /// Bytes of every file, write-ahead log included.
    public var total: Int
    /// Bytes of the pages in use.
    public var inUse: Int

    public init(total: Int, inUse: Int) {
        self.total = total
        self.inUse = inUse
    }
}
