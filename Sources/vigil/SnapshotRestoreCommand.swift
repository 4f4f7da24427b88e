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

    /// Why a restore stopped; nothing was left in the data directory, and a data directory the restore created is
    /// removed again.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// What a file's first bytes say it is.
    enum Kind: Equatable {
        /// An SQLite database (a Vigil snapshot starts so).
        case sqlite
        /// A bbolt database: what etcd's `snapshot save` writes.
        case etcd
        /// Anything else.
        case other
    }

    /// Reads the kind from a file's first page: SQLite's 16-byte header string, or bbolt's meta page, whose magic
    /// number 0xED0CDAED follows the 16-byte page header (little-endian, as etcd writes it on the platforms it runs on).
    static func kind(of head: [UInt8]) -> Kind {
        if head.starts(with: Array("SQLite format 3\0".utf8)) { return .sqlite }
        if head.count >= 20 && Array(head[16..<20]) == [0xED, 0xDA, 0x0C, 0xED] { return .etcd }
        return .other
    }

    /// etcd appends the digest after a database whose size is a multiple of 512 bytes (its page size; SQLite's too).
    static let digestLength = 32

    func run() throws -> (revision: Int64, keys: Int) {
        guard let input = FileHandle(forReadingAtPath: file),
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue
        else { throw Failure(description: "cannot open snapshot \(file)") }
        defer { try? input.close() }
        switch Self.kind(of: [UInt8](try input.read(upToCount: 20) ?? Data())) {
        case .sqlite:
            try input.seek(toOffset: 0)
        case .etcd:
            throw Failure(
                description: "\(file) is an etcd snapshot (a bbolt database); vigil restores snapshots a Vigil server "
                    + "saved. To bring etcd's keys over, run `etcdctl make-mirror` from etcd to a running Vigil.")
        case .other:
            throw Failure(description: "\(file) is not a snapshot of a Vigil database (not an SQLite file)")
        }
        let hasDigest = size % 512 == Self.digestLength
        if !hasDigest && !skipHashCheck {
            // etcdctl's words.
            throw Failure(description: "snapshot missing hash but --skip-hash-check=false")
        }
        let createdDirectory = !FileManager.default.fileExists(atPath: dataDir)
        let directory = try DataDirectory(path: dataDir)
        do {
            return try restore(from: input, size: size, hasDigest: hasDigest, into: directory)
        } catch {
            if createdDirectory { try? FileManager.default.removeItem(atPath: dataDir) }
            throw error
        }
    }

    /// Copies the snapshot into `directory` as its `vigil.db` and opens it once to prove it.
    private func restore(from input: FileHandle, size: Int, hasDigest: Bool, into directory: DataDirectory) throws
        -> (revision: Int64, keys: Int)
    {
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
