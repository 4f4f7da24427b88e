import Foundation

/// Protobuf wire bytes ↔ JSON, as etcd's grpc-gateway writes and reads them (Go's jsonpb with `OrigName`): fields
/// under their .proto names in field order, zero values left out, 64-bit integers as strings, bytes in base64,
/// enums by name. On input both .proto and lowerCamelCase names are taken, integers may be strings, enums are
/// names or JSON numbers, unknown fields are ignored (etcd's gateway allows them), and what cannot be read fails in
/// Go's words.
public enum ProtoJSON {
    /// Why a conversion failed, in words for the client.
    public struct Failure: Error, Equatable {
        public let message: String
    }

    // MARK: JSON → wire

    /// The wire encoding of the JSON object `text` as a `schema` message (an empty body is the empty message).
    /// As grpc-gateway's decoder, only the first JSON value is read (anything after it is ignored), and what cannot
    /// be read fails in the words of Go's `encoding/json` and jsonpb, which etcd's gateway answers with.
    public static func encode(json text: [UInt8], as schema: MessageSchema) throws(Failure) -> [UInt8] {
        guard let first = text.first(where: { !isJSONSpace($0) }) else { return [] }
        let value: Any
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            var splitter = JSONDocumentSplitter()
            guard let document = splitter.append(text).first else {
                throw splitter.failure ?? Failure(message: "unexpected EOF")
            }
            do {
                value = try JSONSerialization.jsonObject(with: Data(document), options: [])
            } catch {
                throw Failure(message: "invalid JSON: \(error.localizedDescription)")
            }
        } else {
            // A scalar: Go reads it, then cannot fit it into a message.
            guard let scalar = try? JSONSerialization.jsonObject(with: Data(text), options: [.fragmentsAllowed]) else {
                throw isJSONValueStart(first) ? Failure(message: "unexpected EOF") : invalidCharacter(first)
            }
            value = scalar
        }
        var out: [UInt8] = []
        try encodeMessage(value, as: schema, into: &out)
        return out
    }

    private static func encodeMessage(_ value: Any, as schema: MessageSchema, into out: inout [UInt8]) throws(Failure) {
        if value is NSNull { return }
        guard let object = value as? [String: Any] else {
            throw cannotUnmarshal(value, into: "map[string]json.RawMessage")
        }
        for field in schema.fields {
            let present = object[field.name] ?? object[field.jsonName]
            guard let present, !(present is NSNull) else { continue }
            if field.repeated {
                guard let items = present as? [Any] else {
                    throw cannotUnmarshal(present, into: "[]json.RawMessage")
                }
                for item in items where !(item is NSNull) { try encodeField(item, field, in: schema, into: &out) }
            } else {
                try encodeField(present, field, in: schema, into: &out)
            }
        }
    }

    /// Go's error for a JSON value of the wrong kind: `json: cannot unmarshal number into Go value of type bool`.
    static func cannotUnmarshal(_ value: Any, into goType: String) -> Failure {
        let kind: String
        if let number = value as? NSNumber {
            kind = isBoolean(number) ? "bool" : "number"
        } else if value is String {
            kind = "string"
        } else if value is [Any] {
            kind = "array"
        } else {
            kind = "object"
        }
        return cannotUnmarshal(kind: kind, into: goType)
    }

    /// Go's error for a JSON value of the kind named (`bool`, `number`, `string`, `array`, `object`).
    static func cannotUnmarshal(kind: String, into goType: String) -> Failure {
        Failure(message: "json: cannot unmarshal \(kind) into Go value of type \(goType)")
    }

    /// Go's error for a number that does not fit the field: `json: cannot unmarshal number 1.5 into Go value of
    /// type int64`.
    static func numberDoesNotFit(_ literal: String, into goType: String) -> Failure {
        Failure(message: "json: cannot unmarshal number \(literal) into Go value of type \(goType)")
    }

    /// An integer field's value written as a string (`"10"`): jsonpb drops the quotes and reads what is inside as
    /// JSON, so Go's errors are those of that text.
    static func integerText(_ quoted: String, goType: String) throws(Failure) -> String {
        let text = quoted.trimmingCharacters(in: CharacterSet(charactersIn: " \t\r\n"))
        guard let first = text.utf8.first else { throw Failure(message: "unexpected end of JSON input") }
        if isJSONNumber(text) { return text }
        switch text {
        case "true", "false": throw cannotUnmarshal(kind: "bool", into: goType)
        case "null": return "0"
        default: break
        }
        if !isJSONValueStart(first) { throw invalidCharacter(first) }
        throw cannotUnmarshal(kind: "string", into: goType)
    }

    /// Go's JSON scanner on a byte that cannot start a value where one is expected: `invalid character 'x' looking
    /// for beginning of value`.
    static func invalidCharacter(_ byte: UInt8) -> Failure {
        let character: String
        switch byte {
        case UInt8(ascii: "'"): character = #"'\''"#
        case 0x20...0x7E: character = "'\(Character(UnicodeScalar(byte)))'"
        default: character = "'\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16) + "'"
        }
        return Failure(message: "invalid character \(character) looking for beginning of value")
    }

    /// Whether `text` is one JSON number literal (`-12`, `1.5`, `1e3`).
    static func isJSONNumber(_ text: String) -> Bool {
        var bytes = text.utf8[...]
        func digits() -> Int {
            let count = bytes.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
            bytes = bytes.dropFirst(count)
            return count
        }
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        if bytes.first == UInt8(ascii: "0") {
            bytes = bytes.dropFirst()
        } else if digits() == 0 {
            return false
        }
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            guard digits() > 0 else { return false }
        }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return bytes.isEmpty
    }

    private static func isJSONSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// Whether a JSON value can start with `byte` (a number, a string, a literal, an object or an array).
    private static func isJSONValueStart(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "\""), UInt8(ascii: "t"),
            UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "{"), UInt8(ascii: "["):
            true
        default: false
        }
    }

    private static func encodeField(_ value: Any, _ field: FieldSchema, in schema: MessageSchema, into out: inout [UInt8])
        throws(Failure)
    {
        // Go's type name is only needed for an error: worked out then, not for every field read.
        func wrong() -> Failure { cannotUnmarshal(value, into: field.goType) }
        /// The value as an integer literal: a JSON number, or the text of a string (jsonpb reads `"10"` as 10).
        func literal() throws(Failure) -> String {
            if let number = value as? NSNumber, !isBoolean(number) {
                if isInteger(number) {
                    return String(cString: number.objCType) == "Q" ? "\(number.uint64Value)" : "\(number.int64Value)"
                }
                // Written with a fraction or an exponent: Go takes no such literal for an integer, not even `2.0`.
                // (The literal is gone; an integral one is shown as `2.0`, the usual way of writing it.)
                let double = number.doubleValue
                let shown = double.rounded() == double && abs(double) < 1e15 ? "\(Int64(double)).0" : "\(double)"
                throw numberDoesNotFit(shown, into: field.goType)
            }
            if let text = value as? String { return try integerText(text, goType: field.goType) }
            throw wrong()
        }
        func integer() throws(Failure) -> Int64 {
            let text = try literal()
            guard let parsed = Int64(text), !field.kind.is32Bit || Int32(exactly: parsed) != nil else {
                throw numberDoesNotFit(text, into: field.goType)
            }
            return parsed
        }
        func unsigned() throws(Failure) -> UInt64 {
            let text = try literal()
            guard let parsed = UInt64(text), !field.kind.is32Bit || UInt32(exactly: parsed) != nil else {
                throw numberDoesNotFit(text, into: field.goType)
            }
            return parsed
        }
        func tag(_ wireType: UInt64) { appendVarint(UInt64(field.number) << 3 | wireType, to: &out) }
        switch field.kind {
        case .int32, .int64:
            tag(0)
            appendVarint(UInt64(bitPattern: try integer()), to: &out)
        case .uint32, .uint64:
            tag(0)
            appendVarint(try unsigned(), to: &out)
        case .sint32, .sint64:
            let signed = try integer()
            tag(0)
            appendVarint(UInt64(bitPattern: (signed << 1) ^ (signed >> 63)), to: &out)
        case .fixed32, .sfixed32, .float, .fixed64, .sfixed64, .double:
            let bits: UInt64
            switch field.kind {
            case .float, .double:
                guard let number = value as? NSNumber, !isBoolean(number) else { throw wrong() }
                bits = field.kind == .float ? UInt64(number.floatValue.bitPattern) : number.doubleValue.bitPattern
            case .fixed32, .fixed64:
                bits = try unsigned()
            default:
                bits = UInt64(bitPattern: try integer())
            }
            let width = [.fixed32, .sfixed32, .float].contains(field.kind) ? 4 : 8
            tag(width == 4 ? 5 : 1)
            for byte in 0..<width { out.append(UInt8(truncatingIfNeeded: bits >> UInt64(8 * byte))) }
        case .bool:
            guard let number = value as? NSNumber, isBoolean(number) else { throw wrong() }
            let flag = number.boolValue
            tag(0)
            out.append(flag ? 1 : 0)
        case .enumeration(_, let names):
            let number: Int64
            if let name = value as? String {
                // jsonpb takes an enum's name, never a number in quotes.
                guard let match = names.first(where: { $0.value == name }) else {
                    throw Failure(message: "unknown value \(quoted(name)) for enum \(field.goType)")
                }
                number = Int64(match.key)
            } else {
                number = try integer()
            }
            tag(0)
            appendVarint(UInt64(bitPattern: number), to: &out)
        case .string:
            guard let text = value as? String else { throw wrong() }
            tag(2)
            appendVarint(UInt64(text.utf8.count), to: &out)
            out.append(contentsOf: text.utf8)
        case .bytes:
            guard let text = value as? String else { throw wrong() }
            let data = try base64Decoded(text)
            tag(2)
            appendVarint(UInt64(data.count), to: &out)
            out.append(contentsOf: data)
        case .message(let name):
            guard let nested = MessageSchema.registry[name] else { throw wrong() }
            var body: [UInt8] = []
            try encodeMessage(value, as: nested, into: &body)
            tag(2)
            appendVarint(UInt64(body.count), to: &out)
            out.append(contentsOf: body)
        }
    }

    /// Standard, padded base64, as Go's encoding/json reads `[]byte`; its error names the first byte it cannot take.
    static func base64Decoded(_ text: String) throws(Failure) -> [UInt8] {
        let utf8 = Array(text.utf8)
        func isAlphabet(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                true
            default: false
            }
        }
        let padding = utf8.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        if let bad = utf8.dropLast(padding).firstIndex(where: { !isAlphabet($0) }) {
            throw Failure(message: "illegal base64 data at input byte \(bad)")
        }
        guard padding <= 2, utf8.count % 4 == 0, let data = Data(base64Encoded: text) else {
            // Go names the first byte of the incomplete 4-byte group.
            throw Failure(message: "illegal base64 data at input byte \((utf8.count - padding) / 4 * 4)")
        }
        return Array(data)
    }

    /// Whether a number JSONSerialization read is `true` or `false`: on Linux the numbers 0 and 1 cast to `Bool`
    /// as well, so the cast cannot tell them apart; the boolean's type code can.
    private static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    /// Whether a number JSONSerialization read was written without a fraction or exponent (read exactly, beyond
    /// the 2^53 a double holds).
    private static func isInteger(_ number: NSNumber) -> Bool {
        ["i", "l", "q", "Q", "s"].contains(String(cString: number.objCType))
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }
}
