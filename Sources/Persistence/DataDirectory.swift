import Foundation

/// The `--data-dir`: created if missing, checked to be writable, and locked so that a second Vigil cannot use it at
/// the same time. The lock is held for the life of the process.
public final class DataDirectory {
    public let path: String
    /// The open lock file; the kernel drops the lock when the process ends.
    private let lockDescriptor: Int32

    /// Why a data directory cannot be used.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) {
            self.description = description
        }
    }

    public init(path: String) throws(Failure) {
        self.path = path
        try Self.createDirectories(path)
        guard access(path, W_OK) == 0 else {
            throw Failure(description: "data directory \(path) is not writable")
        }
        let descriptor = open(path + "/vigil.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw Failure(description: "cannot open \(path)/vigil.lock: \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw Failure(description: "data directory \(path) is in use by another vigil process")
        }
        lockDescriptor = descriptor
    }

    deinit { close(lockDescriptor) }

    /// Creates `path` and its missing parents (`mkdir -p`), or says which one could not be made and why, in the
    /// system's words ("Not a directory", "Read-only file system", "Permission denied").
    private static func createDirectories(_ path: String) throws(Failure) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw Failure(description: "cannot create data directory \(path): \(String(cString: strerror(errno)))")
            }
        }
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw Failure(description: "cannot create data directory \(path): it exists and is not a directory")
        }
    }
}
