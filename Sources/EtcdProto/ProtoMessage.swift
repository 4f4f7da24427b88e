/// A wire message Vigil reads from protobuf bytes.
///
/// Conformers are plain Swift values; the conversion from protobuf-c's C structs lives in `Codec/`, the only place
/// in Vigil that touches those structs.
public protocol ProtoDecodable: Sendable {
    /// Decodes a message from its protobuf encoding.
    ///
    /// - Throws: ``ProtoDecodingError`` when the bytes are not a valid encoding of this message.
    init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError)
}

/// A wire message Vigil writes as protobuf bytes.
public protocol ProtoEncodable: Sendable {
    /// The protobuf encoding of this message.
    func protobufBytes() -> [UInt8]
}

/// A wire message Vigil both reads and writes (requests and responses it also decodes in tests).
public protocol ProtoMessage: ProtoDecodable, ProtoEncodable, Equatable {}
