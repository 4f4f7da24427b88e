/// An error reported by SQLite, with its result code and message, and what Vigil was doing.
public struct SQLiteError: Error, Equatable, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public let context: String

    public var description: String { "\(context): \(message) (SQLite error \(code))" }
}
