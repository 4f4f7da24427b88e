import Dispatch
import Foundation

/// Turns SIGTERM/SIGINT into something `async` code can await. The signals' default actions are disabled so the
/// process lives until the server has shut down gracefully.
final class SignalWaiter {
    private let sources: [any DispatchSourceSignal]
    private let stream: AsyncStream<Int32>

    init(signals: [Int32]) {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        self.stream = stream
        var sources: [any DispatchSourceSignal] = []
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    /// Waits for the first signal and returns its name.
    func next() async -> String {
        for await number in stream {
            switch number {
            case SIGTERM: return "SIGTERM"
            case SIGINT: return "SIGINT"
            default: return "signal \(number)"
            }
        }
        return "end of signals"
    }
}
