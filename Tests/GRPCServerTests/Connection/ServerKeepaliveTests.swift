@testable import GRPCServer
import NIOCore
import Testing

@Suite("server keepalive decisions")
struct ServerKeepaliveTests {
    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test("idle for the interval: ping; answered: wait for the next idle interval")
    func pingAndAnswer() {
        var keepalive = ServerKeepalive(interval: .seconds(10), timeout: .seconds(2), now: start)
        #expect(keepalive.firstDue == start + .seconds(10))
        #expect(keepalive.due(at: start + .seconds(10)) == .ping(thenWaitUntil: start + .seconds(12)))
        keepalive.heard(at: start + .seconds(11))
        #expect(keepalive.due(at: start + .seconds(12)) == .wait(until: start + .seconds(21)))
        #expect(keepalive.due(at: start + .seconds(21)) == .ping(thenWaitUntil: start + .seconds(23)))
    }

    @Test("activity before the interval postpones the ping to the interval after it")
    func activityPostpones() {
        var keepalive = ServerKeepalive(interval: .seconds(10), timeout: .seconds(2), now: start)
        keepalive.heard(at: start + .seconds(7))
        #expect(keepalive.due(at: start + .seconds(10)) == .wait(until: start + .seconds(17)))
        #expect(keepalive.due(at: start + .seconds(17)) == .ping(thenWaitUntil: start + .seconds(19)))
    }

    @Test("a ping unanswered for the timeout closes the connection; an early timer waits on")
    func unanswered() {
        var keepalive = ServerKeepalive(interval: .seconds(10), timeout: .seconds(2), now: start)
        #expect(keepalive.due(at: start + .seconds(10)) == .ping(thenWaitUntil: start + .seconds(12)))
        #expect(keepalive.due(at: start + .seconds(11)) == .wait(until: start + .seconds(12)))
        #expect(keepalive.due(at: start + .seconds(12)) == .close)
    }
}
