/// An error reported by SQLite, with its result code and message, and what Vigil was doing.
public struct SQLiteError: Error, Equatable, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public let context: String

    /// `SQLITE_FULL`: the disk (or the database's page limit) is full.
    public static let full: Int32 = 13

    public var description: String { "\(context): \(message) (SQLite error \(code))" }
}
