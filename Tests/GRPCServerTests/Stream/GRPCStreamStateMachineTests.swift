import GRPCServer
import Testing

@Suite("gRPC stream state machine")
struct GRPCStreamStateMachineTests {
    @Test("a unary call: headers, data, end, response, status")
    func unaryHappyPath() {
        var machine = GRPCStreamStateMachine()
        #expect(machine.receiveHeaders(endStream: false) == .start)
        #expect(machine.receiveData() == .deliver)
        #expect(machine.receiveEndStream() == true)
        #expect(machine.sendMessage() == .sendHeadersAndQueue)
        #expect(machine.sendStatus() == .queueTrailers)
        #expect(machine.isFinished)
        #expect(!machine.needsResetAfterFinalHeaders(clientStillOpen: false))
        #expect(machine.streamClosed() == false, "a finished call needs no cancel")
    }

    @Test("an error before any message is trailers-only")
    func trailersOnly() {
        var machine = GRPCStreamStateMachine()
        _ = machine.receiveHeaders(endStream: false)
        #expect(machine.sendStatus() == .trailersOnly)
        #expect(machine.sendMessage() == .drop)
        #expect(machine.sendStatus() == .ignore)
    }

    @Test("a status while the client still sends asks for RST_STREAM(NO_ERROR)")
    func resetAfterEarlyStatus() {
        var machine = GRPCStreamStateMachine()
        _ = machine.receiveHeaders(endStream: false)
        _ = machine.sendStatus()
        #expect(machine.needsResetAfterFinalHeaders(clientStillOpen: true))
        #expect(machine.receiveData() == .discard)
        #expect(machine.receiveEndStream() == false, "the handler is gone: nobody to tell")
    }

    @Test("a reset while the handler runs cancels it; sends are dropped afterwards")
    func resetCancels() {
        var machine = GRPCStreamStateMachine()
        _ = machine.receiveHeaders(endStream: false)
        _ = machine.sendMessage()
        #expect(machine.streamClosed() == true)
        #expect(machine.sendMessage() == .drop)
        #expect(machine.sendStatus() == .ignore)
        #expect(machine.isFinished)
    }

    @Test("the client half-closing does not end a streaming call")
    func halfClose() {
        var machine = GRPCStreamStateMachine()
        _ = machine.receiveHeaders(endStream: false)
        #expect(machine.receiveEndStream() == true)
        #expect(!machine.isFinished)
        #expect(machine.sendMessage() == .sendHeadersAndQueue)
        #expect(machine.sendMessage() == .queue)
        #expect(machine.receiveData() == .discard, "no DATA may follow END_STREAM")
    }

    @Test("HEADERS with END_STREAM close the client at once; later HEADERS are ignored")
    func headersEndStream() {
        var machine = GRPCStreamStateMachine()
        #expect(machine.receiveHeaders(endStream: true) == .start)
        #expect(machine.client == .closed)
        #expect(machine.receiveHeaders(endStream: true) == .ignore)
    }
}
