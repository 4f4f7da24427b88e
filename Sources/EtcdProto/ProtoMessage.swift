/// A wire message that Vigil reads from and writes to protobuf bytes.
///
/// Conformers are plain Swift values; the conversion to and from protobuf-c's C structs lives in
/// `Codec/`, the only place in Vigil that touches those structs.
public protocol ProtoMessage: Sendable, Equatable {
    /// Decodes a message from its protobuf encoding.
    ///
    /// - Throws: ``ProtoDecodingError`` when the bytes are not a valid encoding of this message.
    init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError)

    /// The protobuf encoding of this message.
    func protobufBytes() -> [UInt8]
}
