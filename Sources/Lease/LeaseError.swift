/// Why the lessor refused a request; the service layer maps each case to etcd's error.
public enum LeaseError: Error, Hashable, Sendable {
    /// No live lease has this ID.
    case notFound
    /// A lease with this ID already exists.
    case exists
    /// The TTL is above etcd's maximum (9,000,000,000 seconds).
    case ttlTooLarge
}
