import NIOCore

/// When a connection's peer is pinged and when it is given up on: grpc-go's server keepalive, which etcd sets with
/// `--grpc-keepalive-interval` (2 h) and `--grpc-keepalive-timeout` (20 s). After `interval` without hearing from
/// the peer, the server sends a PING; if nothing at all arrives within `timeout` after it, the peer is gone (a
/// client whose host vanished without closing its connections) and the connection closes, taking its watchers with
/// it. Anything received counts as a sign of life, as in grpc-go, not only the PING's acknowledgement.
///
/// Pure state: the connection handler tells it what it heard and asks it, when its timer fires, what to do next.
struct ServerKeepalive: Sendable {
    /// Idle time after which the peer is pinged.
    let interval: TimeAmount
    /// How long an unanswered ping is waited for.
    let timeout: TimeAmount
    /// When the peer was last heard from.
    private(set) var lastHeard: NIODeadline
    /// When the ping waiting for an answer went out; nil while none is out.
    private(set) var pingSentAt: NIODeadline?

    /// What the connection does when its timer fires.
    enum Step: Equatable, Sendable {
        /// Nothing yet: fire again then.
        case wait(until: NIODeadline)
        /// Send a PING, and fire again then.
        case ping(thenWaitUntil: NIODeadline)
        /// The ping went unanswered: close the connection.
        case close
    }

    init(interval: TimeAmount, timeout: TimeAmount, now: NIODeadline) {
        self.interval = interval
        self.timeout = timeout
        self.lastHeard = now
    }

    /// When the timer should first fire.
    var firstDue: NIODeadline { lastHeard + interval }

    /// The peer sent something.
    mutating func heard(at now: NIODeadline) {
        lastHeard = now
    }

    /// What to do when the timer fires at `now`.
    mutating func due(at now: NIODeadline) -> Step {
        if let sent = pingSentAt {
            if lastHeard >= sent {
                pingSentAt = nil
            } else if now >= sent + timeout {
                return .close
            } else {
                return .wait(until: sent + timeout)
            }
        }
        let idleUntil = lastHeard + interval
        if now < idleUntil { return .wait(until: idleUntil) }
        pingSentAt = now
        return .ping(thenWaitUntil: now + timeout)
    }
}
