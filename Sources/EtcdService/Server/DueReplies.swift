import NIOCore
import NIOPosix

/// A write's reply waiting for a flush: the staged sequence number it needs, the event loop it was made on (its
/// connection's, where the reply has to run; nil off any loop) and the reply itself.
struct PendingReply {
    let sequence: Int64
    let loop: (any EventLoop)?
    let reply: @Sendable () -> Void

    /// A reply made on the calling thread, which is its connection's event loop when the request came in over one.
    init(sequence: Int64, reply: @escaping @Sendable () -> Void) {
        self.sequence = sequence
        self.loop = MultiThreadedEventLoopGroup.currentEventLoop
        self.reply = reply
    }
}

/// The replies one flush made due, grouped by the event loop each belongs to, so that a flush hands every other
/// loop its replies in one task rather than one task per write (put-64: ~15 writes per flush over two loops).
/// Order is kept within each loop.
struct DueReplies {
    /// Replies made off any event loop; they run on the flushing thread.
    private var loopless: [@Sendable () -> Void] = []
    /// Replies per event loop, in the order they became due. A handful of loops at most, so a list.
    private var byLoop: [(loop: any EventLoop, replies: [@Sendable () -> Void])] = []

    init() {}

    var isEmpty: Bool { loopless.isEmpty && byLoop.isEmpty }

    mutating func append(_ pending: PendingReply) {
        guard let loop = pending.loop else {
            loopless.append(pending.reply)
            return
        }
        if let index = byLoop.firstIndex(where: { $0.loop === loop }) {
            byLoop[index].replies.append(pending.reply)
        } else {
            byLoop.append((loop, [pending.reply]))
        }
    }

    /// Runs the replies that belong to the calling thread (its own event loop's, and those of no loop) now, and
    /// queues each other loop's as one task there.
    func run() {
        for reply in loopless { reply() }
        for (loop, replies) in byLoop {
            if loop.inEventLoop {
                for reply in replies { reply() }
            } else {
                loop.execute { for reply in replies { reply() } }
            }
        }
    }
}
