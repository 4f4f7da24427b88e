/// The error thrown when bytes are not a valid protobuf encoding of the expected message.
public struct ProtoDecodingError: Error, Equatable, CustomStringConvertible {
    /// The fully qualified protobuf name of the message that failed to decode, e.g. `etcdserverpb.RangeRequest`.
    public let messageName: String

    public init(messageName: String) {
        self.messageName = messageName
    }

    public var description: String {
        "malformed protobuf for \(messageName)"
    }
}
