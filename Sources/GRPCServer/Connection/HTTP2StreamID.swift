/// The identifier of one HTTP/2 stream on one connection.
///
/// A newtype so that stream IDs are never confused with other integers; it is not reasonable to do arithmetic on it.
public struct HTTP2StreamID: Hashable, Sendable, CustomStringConvertible {
    /// The wire value: odd for client-initiated streams, 0 for the connection itself.
    public let rawValue: Int32

    public init(_ rawValue: Int32) {
        self.rawValue = rawValue
    }

    public var description: String { String(rawValue) }
}
