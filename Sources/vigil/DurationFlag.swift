import ArgumentParser
import NIOCore

/// A duration flag in Go's notation, as etcd takes them: `10m`, `5s`, `500ms`, `1m30s`, `1h`.
struct DurationFlag: ExpressibleByArgument, Sendable {
    let milliseconds: Int

    init(milliseconds: Int) {
        self.milliseconds = milliseconds
    }

    /// The duration as NIO counts time.
    var timeAmount: TimeAmount { .milliseconds(Int64(milliseconds)) }

    init?(argument: String) {
        var total = 0.0
        var number = ""
        var unit = ""
        var parsedAny = false
        func flush() -> Bool {
            guard let value = Double(number) else { return false }
            let scale: Double
            switch unit {
            case "h": scale = 3_600_000
            case "m": scale = 60_000
            case "s": scale = 1000
            case "ms": scale = 1
            case "us", "µs": scale = 0.001
            case "ns": scale = 0.000_001
            default: return false
            }
            total += value * scale
            number = ""
            unit = ""
            parsedAny = true
            return true
        }
        for character in argument {
            if character.isNumber || character == "." {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(character)
            } else {
                unit.append(character)
            }
        }
        guard !number.isEmpty || !unit.isEmpty, flush(), parsedAny else { return nil }
        milliseconds = Int(total.rounded())
    }

    var defaultValueDescription: String { "\(milliseconds)ms" }
}
