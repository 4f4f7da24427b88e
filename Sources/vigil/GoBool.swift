import ArgumentParser

/// A boolean flag value as Go's flag package reads it: `true`, `false`, `1`, `0`, `t`, `f` in any case.
struct GoBool: ExpressibleByArgument, Sendable, Equatable {
    let value: Bool

    init?(argument: String) {
        switch argument.lowercased() {
        case "1", "t", "true": value = true
        case "0", "f", "false": value = false
        default: return nil
        }
    }

    /// `arguments` with each of `booleans` that stands alone (`--pre-vote`, not `--pre-vote=false`) given as
    /// `--pre-vote=true`: Go's flag package takes both forms, and an option here needs a value.
    static func normalise(_ arguments: [String], booleans: Set<String>) -> [String] {
        arguments.map { booleans.contains($0) ? $0 + "=true" : $0 }
    }
}
