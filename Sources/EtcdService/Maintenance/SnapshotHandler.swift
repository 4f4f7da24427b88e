import Dispatch
import EtcdProto
import Foundation
import GRPCServer
import NIOCore

/// One `Maintenance.Snapshot` call (`etcdctl snapshot save`): the data directory's database as it stands at the
/// newest durable revision, streamed as etcd streams its own — 32 KiB blobs, each with the bytes remaining after
/// it, then the SHA-256 of the whole as a last blob — and ended OK.
///
/// The copy is written off the event loop (``EtcdStore/writeSnapshot()``, a `VACUUM INTO` that writes and reads go
/// on beside), opened, and removed from the directory at once, so a call that ends early leaves nothing behind.
/// Blobs are read and sent only while the stream is writable, so a slow client holds one file descriptor, not
/// the database in memory. Confined to the call's event loop, but for the copy.
final class SnapshotHandler: GRPCStreamHandler {
    /// The call; nil once it ended. Event loop only.
    private var stream: (any GRPCResponseWriter)?
    private let store: EtcdStore
    /// Whether the request arrived (a server-streaming call takes one; later ones are ignored, as grpc-go does).
    private var requested = false
    /// The open copy being sent, and what is left of it; nil before the copy is ready and after the last blob.
    private var file: FileHandle?
    private var remaining: UInt64 = 0
    private var digest = SHA256()

    /// etcd's blob size.
    static let blobSize = 32 * 1024

    init(stream: any GRPCResponseWriter, store: EtcdStore) {
        self.stream = stream
        self.store = store
    }

    func receive(_ message: [UInt8]) {
        guard let stream, !requested else { return }
        requested = true
        do {
            _ = try SnapshotRequest(protobufBytes: message)
        } catch {
            stream.abort(with: GRPCStatus(.internal, "grpc: error unmarshalling request: \(error)"))
            self.stream = nil
            return
        }
        let bound = NIOLoopBound(self, eventLoop: stream.eventLoop)
        let loop = stream.eventLoop
        let store = self.store
        DispatchQueue.global().async {
            let opened = Self.openSnapshot(store)
            loop.execute { bound.value.start(opened) }
        }
    }

    func receiveEnd() {
        // The client half-closed without a request: grpc-go's handler reads EOF and ends the call with it.
        guard let stream, !requested else { return }
        stream.finish(GRPCStatus(.unknown, "EOF"))
        self.stream = nil
    }

    func becameWritable() {
        pump()
    }

    func cancelled() {
        stream = nil
        closeFile()
    }

    /// Writes the copy and opens it, removing its name at once. Off the event loop.
    private static func openSnapshot(_ store: EtcdStore) -> Result<(FileHandle, UInt64), GRPCStatus> {
        let path: String
        do throws(EtcdError) {
            path = try store.writeSnapshot()
        } catch {
            return .failure(error.status)
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard let handle = FileHandle(forReadingAtPath: path),
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber
        else {
            return .failure(GRPCStatus(.unknown, "vigil: cannot open the snapshot written to \(path)"))
        }
        return .success((handle, size.uint64Value))
    }

    /// The copy is ready (or failed): start sending it, unless the call ended meanwhile.
    private func start(_ opened: Result<(FileHandle, UInt64), GRPCStatus>) {
        switch opened {
        case .failure(let status):
            stream?.finish(status)
            stream = nil
        case .success(let (handle, size)):
            guard stream != nil else {
                try? handle.close()
                return
            }
            file = handle
            remaining = size
            pump()
        }
    }

    /// Sends blobs while the stream takes them; after the last, the digest and OK.
    private func pump() {
        guard let stream, let file else { return }
        while stream.isWritable && remaining > 0 {
            let blob: [UInt8]
            do {
                blob = [UInt8](try file.read(upToCount: min(Self.blobSize, Int(remaining))) ?? Data())
            } catch {
                fail("vigil: reading the snapshot failed: \(error)")
                return
            }
            guard !blob.isEmpty else {
                fail("vigil: the snapshot ended \(remaining) bytes early")
                return
            }
            remaining -= UInt64(blob.count)
            digest.update(blob)
            stream.send(SnapshotResponse(remainingBytes: remaining, blob: blob).protobufBytes())
        }
        guard remaining == 0 else { return }
        stream.send(SnapshotResponse(remainingBytes: 0, blob: digest.finalize()).protobufBytes())
        stream.finish(.ok)
        self.stream = nil
        closeFile()
    }

    private func fail(_ message: String) {
        stream?.abort(with: GRPCStatus(.unknown, message))
        stream = nil
        closeFile()
    }

    private func closeFile() {
        try? file?.close()
        file = nil
    }
}
