/// Why the store refused a request. The service layer maps each case to etcd's gRPC code and exact message in one
/// table; the store itself knows nothing of gRPC.
public enum MVCCError: Error, Hashable, Sendable {
    /// The requested revision is below the compaction point.
    case compacted
    /// The requested revision is above the current revision.
    case futureRevision
    /// The backend failed to read or write; the text says why.
    case backend(String)
    /// The backend has no room for what it was asked to write (a full disk or file system); the text says where.
    case backendFull(String)
}

extension MVCCError: CustomStringConvertible {
    /// The error in words: the backend's own text for its failures.
    public var description: String {
        switch self {
        case .compacted: "required revision has been compacted"
        case .futureRevision: "required revision is a future revision"
        case .backend(let text), .backendFull(let text): text
        }
    }

    /// Whether the backend failed for want of room.
    public var isBackendFull: Bool {
        if case .backendFull = self { true } else { false }
    }
}
