import EtcdService
import GRPCServer
import NIOConcurrencyHelpers
import NIOCore

/// `vigil.diagnostic.Diagnostic`: a small service for exercising the gRPC layer before every etcd service exists and
/// independently of them. Registered only with `--experimental-diagnostic-service`; never in a normal deployment.
///
/// Messages are raw bytes, not protobuf, so stock clients can call it with identity serializers:
/// - `Sleep`: the request is a decimal millisecond count; the reply (the same bytes) comes after that long.
/// - `Echo`: a bidirectional stream that sends every message back, and ends OK after the client half-closes.
/// - `OpenStreams`: replies with the number of `Echo` streams the server still holds, as decimal text, so a test
///   can see that a cancelled stream released its handler.
/// - `SleepingCalls`: replies with the number of `Sleep` calls not yet answered, as decimal text.
/// - `Watchers`: replies with the number of watchers the watch hub holds, as decimal text.
enum DiagnosticService {
    static let serviceName = "vigil.diagnostic.Diagnostic"

    /// Live `Echo` handlers, counted across every connection.
    private static let openEchoStreams = NIOLockedValueBox(0)
    /// `Sleep` calls received and not yet answered.
    private static let sleepingCalls = NIOLockedValueBox(0)

    static func register(into router: inout GRPCRouter, store: EtcdStore) {
        router.registerUnary(service: serviceName, method: "Watchers") { _, _, responder in
            responder.respond(.success(Array(String(store.watchHub.watcherCount).utf8)))
        }
        router.registerUnary(service: serviceName, method: "Sleep") { request, context, responder in
            let milliseconds = Int64(String(decoding: request, as: UTF8.self)) ?? 0
            sleepingCalls.withLockedValue { $0 += 1 }
            context.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) {
                sleepingCalls.withLockedValue { $0 -= 1 }
                responder.respond(.success(request))
            }
        }
        router.registerUnary(service: serviceName, method: "OpenStreams") { _, _, responder in
            let count = openEchoStreams.withLockedValue { $0 }
            responder.respond(.success(Array(String(count).utf8)))
        }
        router.registerUnary(service: serviceName, method: "SleepingCalls") { _, _, responder in
            let count = sleepingCalls.withLockedValue { $0 }
            responder.respond(.success(Array(String(count).utf8)))
        }
        router.registerStreaming(service: serviceName, method: "Echo") { stream in
            EchoHandler(stream: stream)
        }
    }

    /// Serves one `Echo` stream.
    private final class EchoHandler: GRPCStreamHandler {
        /// The call; released when the call ends so the handler can be freed.
        private var stream: (any GRPCResponseWriter)?

        init(stream: any GRPCResponseWriter) {
            self.stream = stream
            DiagnosticService.openEchoStreams.withLockedValue { $0 += 1 }
        }

        deinit {
            DiagnosticService.openEchoStreams.withLockedValue { $0 -= 1 }
        }

        func receive(_ message: [UInt8]) {
            stream?.send(message)
        }

        func receiveEnd() {
            stream?.finish(.ok)
            stream = nil
        }

        func cancelled() {
            stream = nil
        }
    }
}
