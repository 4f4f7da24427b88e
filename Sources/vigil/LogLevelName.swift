import Logging

/// etcd's `--log-level` names mapped onto swift-log levels.
enum LogLevelName {
    static func parse(_ name: String) -> Logger.Level? {
        switch name.lowercased() {
        case "debug": .debug
        case "info": .info
        case "warn", "warning": .warning
        case "error": .error
        case "panic", "dpanic": .critical
        case "fatal": .critical
        default: nil
        }
    }
}
