import Foundation

/// The shape of one protobuf message, read from protobuf-c's descriptors (``MessageSchema/registry``): what the
/// JSON transcoder (``ProtoJSON``) needs to turn the message's wire bytes into JSON and back.
public struct MessageSchema: Sendable {
    /// The full name (`etcdserverpb.RangeRequest`).
    public let name: String
    /// The fields, in field-number order (protobuf-c's order, and the .proto's declaration order for etcd's messages).
    public let fields: [FieldSchema]

    /// The field a JSON key names: its .proto name or its lowerCamelCase JSON name, as Go's jsonpb accepts.
    func field(jsonKey key: String) -> FieldSchema? {
        fields.first { $0.name == key } ?? fields.first { $0.jsonName == key }
    }
}

/// One field of a ``MessageSchema``.
public struct FieldSchema: Sendable {
    /// How the value is typed, which decides its wire and JSON forms.
    public enum Kind: Sendable, Equatable {
        case int32, sint32, sfixed32, uint32, fixed32
        case int64, sint64, sfixed64, uint64, fixed64
        case float, double, bool, string, bytes
        /// An enum: its full name (`etcdserverpb.RangeRequest.SortOrder`) and its values' names by number.
        case enumeration(name: String, values: [Int32: String])
        /// A message, by full name (looked up in the registry, so recursive messages are fine).
        case message(String)

        /// Whether a value of this kind is a 32-bit integer (a wider JSON number does not fit it).
        var is32Bit: Bool {
            switch self {
            case .int32, .sint32, .sfixed32, .uint32, .fixed32: true
            default: false
            }
        }
    }

    /// The Go type etcd's generated code gives a field of this kind, as Go's JSON errors name it (`int64`,
    /// `[]uint8`, `etcdserverpb.RangeRequest_SortOrder`; a message is read first as `map[string]json.RawMessage`).
    var goType: String {
        switch kind {
        case .int32, .sint32, .sfixed32: "int32"
        case .uint32, .fixed32: "uint32"
        case .int64, .sint64, .sfixed64: "int64"
        case .uint64, .fixed64: "uint64"
        case .float: "float32"
        case .double: "float64"
        case .bool: "bool"
        case .string: "string"
        case .bytes: "[]uint8"
        case .enumeration(let name, _): Self.goName(ofEnum: name)
        case .message: "map[string]json.RawMessage"
        }
    }

    /// A nested enum's Go name: the package, then the enclosing messages and the enum joined by `_`.
    static func goName(ofEnum name: String) -> String {
        guard let dot = name.firstIndex(of: ".") else { return name }
        return String(name[...dot]) + name[name.index(after: dot)...].replacingOccurrences(of: ".", with: "_")
    }

    /// The .proto name (`keys_only`), what etcd's gateway writes.
    public let name: String
    /// The lowerCamelCase JSON name (`keysOnly`), also accepted on input.
    public let jsonName: String
    public let number: UInt32
    public let repeated: Bool
    public let kind: Kind

    /// protoc's JSON name: underscores dropped, the letter after each upper-cased.
    static func jsonName(of name: String) -> String {
        var result = ""
        var upperNext = false
        for character in name {
            if character == "_" {
                upperNext = true
            } else {
                result.append(upperNext ? Character(character.uppercased()) : character)
                upperNext = false
            }
        }
        return result
    }
}
