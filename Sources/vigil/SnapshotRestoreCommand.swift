import ArgumentParser
import EtcdService
import Foundation
import MVCC
import Persistence

/// `vigil snapshot`: what etcd's `etcdctl snapshot` does offline, for snapshots Vigil served.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Restores a snapshot saved by `etcdctl snapshot save` from a Vigil server.",
        subcommands: [SnapshotRestoreCommand.self])
}

/// `vigil snapshot restore FILE --data-dir DIR`: checks a snapshot's SHA-256 trailer (as `etcdctl snapshot restore`
/// does), then makes its database the data directory's `vigil.db`. The directory must hold no database yet; the
/// restored one keeps its cluster and member IDs, revision, history since its compaction point, and leases (which
/// get their full TTL again at the next start, as after any restart).
struct SnapshotRestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Restores a snapshot file into a new data directory.")

    @Argument(help: "The file `etcdctl snapshot save` wrote.")
    var file: String

    /// The data directory to restore into; it must hold no database.
    @OptionGroup var dataDirectory: DataDirOption

    @Flag(
        name: .customLong("skip-hash-check"),
        help: "Restore a database file without the SHA-256 trailer a snapshot stream ends with.")
    var skipHashCheck = false

    func run() throws {
        let restored = try SnapshotRestore(file: file, dataDir: dataDirectory.dataDir, skipHashCheck: skipHashCheck).run()
        print("restored snapshot \(file) into \(dataDirectory.dataDir) at revision \(restored.revision) (\(restored.keys) keys)")
    }
}

/// The restore itself: copy, check, put in place, open once to prove it.
struct SnapshotRestore {
    let file: String
    let dataDir: String
    let skipHashCheck: Bool

    /// Why a restore stopped; nothing was left in the data directory.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// etcd appends the digest after a database whose size is a multiple of 512 bytes (its page size; SQLite's too).
    static let digestLength = 32

    func run() throws -> (revision: Int64, keys: Int) {
        guard let input = FileHandle(forReadingAtPath: file),
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue
        else { throw Failure(description: "cannot open snapshot \(file)") }
        defer { try? input.close() }
        let hasDigest = size % 512 == Self.digestLength
        if !hasDigest && !skipHashCheck {
            // etcdctl's words.
            throw Failure(description: "snapshot missing hash but --skip-hash-check=false")
        }
        let directory = try DataDirectory(path: dataDir)
        let target = directory.path + "/vigil.db"
        guard !FileManager.default.fileExists(atPath: target) else {
            throw Failure(description: "data-dir \"\(dataDir)\" holds a database already (\(target))")
        }
        let partial = target + ".restoring"
        do {
            try copy(
                input, databaseBytes: hasDigest ? size - Self.digestLength : size, checkDigest: hasDigest && !skipHashCheck,
                to: partial)
            try FileManager.default.moveItem(atPath: partial, toPath: target)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        do {
            let backend = try SQLiteBackend(directory: directory.path)
            let store = try KVStore(backend: backend)
            return (store.currentRevision, store.indexedKeyCount)
        } catch {
            try? FileManager.default.removeItem(atPath: target)
            throw Failure(description: "\(file) is not a snapshot of a Vigil database: \(error)")
        }
    }

    /// Copies the database's bytes to `path` (synced), checking them against the digest that follows them when
    /// `checkDigest`.
    private func copy(_ input: FileHandle, databaseBytes: Int, checkDigest: Bool, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let output = FileHandle(forWritingAtPath: path)
        else { throw Failure(description: "cannot create \(path)") }
        defer { try? output.close() }
        var digest = SHA256()
        var left = databaseBytes
        while left > 0 {
            let chunk = try input.read(upToCount: min(left, 1 << 20)) ?? Data()
            guard !chunk.isEmpty else { throw Failure(description: "snapshot \(file) ended early") }
            let bytes = [UInt8](chunk)
            if checkDigest { digest.update(bytes) }
            try output.write(contentsOf: chunk)
            left -= bytes.count
        }
        if checkDigest {
            let stored = [UInt8](try input.read(upToCount: Self.digestLength) ?? Data())
            let computed = digest.finalize()
            guard stored == computed else {
                throw Failure(description: "expected sha256 \(hex(stored)), got \(hex(computed))")
            }
        }
        try output.synchronize()
    }

    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
