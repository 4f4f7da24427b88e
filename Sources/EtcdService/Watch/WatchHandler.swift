import EtcdProto
import GRPCServer
import MVCC
import NIOCore
import WatchHub

/// Serves one Watch stream: turns requests into hub calls, and drains the hub's queue for this stream into the
/// call's writer — its HTTP/2 stream, or the JSON gateway's response — as fast as the client reads (etcd's
/// `serverWatchStream` recvLoop/sendLoop pair).
///
/// Runs on the stream's event loop, except ``wake()``, which the hub calls from any thread. When the transport
/// reports the client is not reading (`isWritable == false`), draining stops; the hub's queue then fills to its
/// budget and parks the stream's watchers, which are caught up from history once the client reads again.
final class WatchHandler: GRPCStreamHandler, WatchSink, @unchecked Sendable {
    /// The call; nil once it ended. Touched only on `eventLoop`.
    private var stream: (any GRPCResponseWriter)?
    private let eventLoop: any EventLoop
    private let hub: WatchHub
    private let identity: ClusterIdentity
    private let configuration: WatchService.Configuration
    /// This stream's state in the hub. Its fields belong to the hub's lock; this handler only passes it back.
    private var hubStream: HubStream!
    /// The encoded header of the last revision sent, shared by every watcher's response at that revision.
    private var cachedHeader: (revision: Int64, bytes: [UInt8])?
    /// The periodic progress timer, started by the first watch that asks for progress notifications.
    private var progressTimer: RepeatedTask?

    /// Most hub deliveries sent per event-loop turn before yielding to other streams on the loop.
    private static let deliveriesPerTurn = 256

    init(stream: any GRPCResponseWriter, store: EtcdStore, configuration: WatchService.Configuration) {
        self.stream = stream
        self.eventLoop = stream.eventLoop
        self.hub = store.watchHub
        self.identity = store.identity
        self.configuration = configuration
        self.hubStream = hub.openStream(sink: self)
    }

    // MARK: Requests

    func receive(_ message: [UInt8]) {
        let request: WatchRequest
        do {
            request = try WatchRequest(protobufBytes: message)
        } catch {
            stream?.abort(with: GRPCStatus(.internal, "grpc: error unmarshalling request: \(error)"))
            return
        }
        switch request {
        case .create(let create):
            var options = WatchOptions()
            options.startRevision = create.startRevision
            options.noPut = create.filters.contains(.noPut)
            options.noDelete = create.filters.contains(.noDelete)
            options.prevKV = create.prevKV
            options.fragment = create.fragment
            options.progressNotify = create.progressNotify
            // etcd watches key "\0" when the key is empty.
            let key = create.key.isEmpty ? [0] : create.key
            hub.create(
                on: hubStream, requestedID: create.watchID, range: KeyRange(key: key, rangeEnd: create.rangeEnd),
                options: options)
            if create.progressNotify { startProgressTimer() }
        case .cancel(let watchID):
            hub.cancel(on: hubStream, watchID: watchID)
        case .progress:
            hub.requestProgress(on: hubStream)
        case .empty:
            break
        }
    }

    /// The client half-closed. etcd keeps a Watch stream open until the client resets it or disconnects.
    func receiveEnd() {}

    func cancelled() {
        progressTimer?.cancel()
        progressTimer = nil
        stream = nil
        hub.closeStream(hubStream)
    }

    func becameWritable() {
        pump()
    }

    private func startProgressTimer() {
        guard progressTimer == nil, configuration.progressNotifyInterval.nanoseconds > 0 else { return }
        let interval = configuration.progressNotifyInterval
        // The task holds the hub and the stream, not the handler: a weak reference to the handler would give it a
        // side table and slow every retain and release of it. `close()` cancels the task.
        progressTimer = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) {
            [hub, hubStream] (_: RepeatedTask) in
            hub.progressTick(on: hubStream)
        }
    }

    // MARK: Delivery

    func wake() {
        eventLoop.execute { [self] in pump() }
    }

    /// Sends queued responses while the client keeps up, catching up parked watchers when the queue is empty.
    private func pump() {
        var budget = Self.deliveriesPerTurn
        while let stream, stream.isWritable, budget > 0 {
            let deliveries = hub.take(from: hubStream, max: min(budget, 64))
            if deliveries.isEmpty {
                do {
                    guard try hub.catchUp(hubStream) else { return }
                } catch {
                    stream.abort(with: GRPCStatus(.unknown, "\(error)"))
                    return
                }
                budget -= 1
                continue
            }
            for delivery in deliveries {
                budget -= delivery.responseCount
                send(delivery, on: stream)
            }
        }
        // Out with this turn's responses now: with many streams busy on the loop, waiting for the turn's end would
        // hold the first responses back until every stream had produced its share.
        stream?.flush()
        // Out of budget for this turn, with the client still reading: let other streams on the loop run first.
        if budget <= 0, let stream, stream.isWritable {
            eventLoop.execute { [self] in pump() }
        }
    }

    private func send(_ delivery: Delivery, on stream: any GRPCResponseWriter) {
        switch delivery {
        case .created(let watchID, let revision, let canceled, let reason):
            stream.send(
                WatchResponse(
                    header: identity.header(revision: revision), watchID: watchID, created: true, canceled: canceled,
                    cancelReason: reason
                ).protobufBytes())
        case .canceled(let watchID, let revision, let compactRevision):
            stream.send(
                WatchResponse(
                    header: identity.header(revision: revision), watchID: watchID, canceled: true,
                    compactRevision: compactRevision
                ).protobufBytes())
        case .progress(let watchID, let revision):
            stream.send(WatchResponse(header: identity.header(revision: revision), watchID: watchID).protobufBytes())
        case .events(let watchID, let revision, let events, let fragmentable):
            if fragmentable && events.count >= 2 {
                let shell = WatchResponse(header: identity.header(revision: revision), watchID: watchID)
                sendFragments(shell: shell, events: events, on: stream)
            } else {
                send(shell: shell(at: revision), watchID: watchID, events[...], on: stream)
            }
        case .batch(let watchID, let revision, let pieces):
            // The shell and watch ID are written; the shared pieces follow as they are, not copied.
            let shell = shell(at: revision)
            stream.send(headLength: Self.headLength(shell, watchID), attachments: pieces) { message in
                Self.writeHead(shell, watchID, into: &message)
            }
        case .shared(let watchIDs, let revision, let events):
            let shell = shell(at: revision)
            var eventsLength = 0
            for event in events { eventsLength += event.count }
            // A revision's one event (the usual case) is written without walking the events array per response.
            let only = events.count == 1 ? events[0] : nil
            stream.send(count: watchIDs.count) { index in
                Self.headLength(shell, watchIDs[index]) + eventsLength
            } body: { index, message in
                Self.writeHead(shell, watchIDs[index], into: &message)
                if let only {
                    message.write(only)
                } else {
                    for event in events { message.write(event) }
                }
            }
        }
    }

    /// The encoded response shell of `revision` (its header), the same for every watcher of a revision: encoded
    /// once, each response adds its watch ID.
    private func shell(at revision: Int64) -> [UInt8] {
        if cachedHeader?.revision != revision {
            cachedHeader = (revision, WatchResponse(header: identity.header(revision: revision)).protobufBytes())
        }
        return cachedHeader!.bytes
    }

    /// The size of a response's shell and watch ID field.
    private static func headLength(_ shell: [UInt8], _ watchID: Int64) -> Int {
        shell.count + WatchResponse.watchIDFieldSize(watchID)
    }

    /// Writes a response's shell and watch ID field (the events follow).
    private static func writeHead(_ shell: [UInt8], _ watchID: Int64, into message: inout MessageWriter) {
        message.write(shell)
        WatchResponse.writeWatchIDField(watchID) { message.write(byte: $0) }
    }

    /// etcd's `sendFragments`: when the whole response would reach the threshold, send the events in pieces, each
    /// as large as fits (at least one event), every piece but the last marked `fragment`.
    private func sendFragments(shell: WatchResponse, events: [[UInt8]], on stream: any GRPCResponseWriter) {
        let plain = shell.protobufBytes()
        let total = plain.count + events.reduce(0) { $0 + $1.count }
        guard total >= configuration.fragmentThreshold else {
            send(shell: plain, events[...], on: stream)
            return
        }
        var fragmentShell = shell
        fragmentShell.fragment = true
        let fragmentHead = fragmentShell.protobufBytes()
        var start = 0
        while start < events.count {
            var size = fragmentHead.count
            var end = start
            while end < events.count {
                if end > start && size + events[end].count >= configuration.fragmentThreshold { break }
                size += events[end].count
                end += 1
            }
            let last = end == events.count
            send(shell: last ? plain : fragmentHead, events[start..<end], on: stream)
            start = end
        }
    }

    /// Sends one response: its encoded shell (and, when the shell is shared by several watchers, the watch ID
    /// field) followed by pre-encoded `events` fields, written straight into the stream's outbound queue.
    private func send(
        shell: [UInt8], watchID: Int64 = 0, _ events: ArraySlice<[UInt8]>, on stream: any GRPCResponseWriter
    ) {
        var length = Self.headLength(shell, watchID)
        for event in events { length += event.count }
        stream.send(length: length) { message in
            Self.writeHead(shell, watchID, into: &message)
            for event in events { message.write(event) }
        }
    }
}
