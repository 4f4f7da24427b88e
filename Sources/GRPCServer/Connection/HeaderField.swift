/// One HTTP/2 header field (a pseudo-header such as `:path`, or a regular field such as `content-type`).
///
/// Names are lower-case on the wire in HTTP/2; a request with an upper-case name is malformed (``HeaderBlockRules``).
public struct HeaderField: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    public var description: String { "\(name): \(value)" }
}

extension Array where Element == HeaderField {
    /// The value of the first field called `name`, if any.
    public func first(_ name: String) -> String? {
        first(where: { $0.name == name })?.value
    }
}
