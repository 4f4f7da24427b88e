import Foundation

/// Protobuf wire bytes ↔ JSON, as etcd's grpc-gateway writes and reads them (Go's jsonpb with `OrigName`): fields
/// under their .proto names in field order, zero values left out, 64-bit integers as strings, bytes in base64,
/// enums by name. On input both .proto and lowerCamelCase names are taken, numbers may be strings and enums
/// numbers, and unknown fields are ignored (etcd's gateway allows them).
public enum ProtoJSON {
    /// Why a conversion failed, in words for the client.
    public struct Failure: Error, Equatable {
        public let message: String
    }

    // MARK: JSON → wire

    /// The wire encoding of the JSON object `text` as a `schema` message (an empty body is the empty message).
    public static func encode(json text: [UInt8], as schema: MessageSchema) throws(Failure) -> [UInt8] {
        if text.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [] }
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: Data(text), options: [.fragmentsAllowed])
        } catch {
            throw Failure(message: "invalid JSON: \(error.localizedDescription)")
        }
        var out: [UInt8] = []
        try encodeMessage(value, as: schema, into: &out)
        return out
    }

    private static func encodeMessage(_ value: Any, as schema: MessageSchema, into out: inout [UInt8]) throws(Failure) {
        if value is NSNull { return }
        guard let object = value as? [String: Any] else {
            throw Failure(message: "\(schema.name) must be a JSON object")
        }
        for field in schema.fields {
            let present = object[field.name] ?? object[field.jsonName]
            guard let present, !(present is NSNull) else { continue }
            if field.repeated {
                guard let items = present as? [Any] else {
                    throw Failure(message: "\(schema.name).\(field.name) must be a JSON array")
                }
                for item in items where !(item is NSNull) { try encodeField(item, field, in: schema, into: &out) }
            } else {
                try encodeField(present, field, in: schema, into: &out)
            }
        }
    }

    private static func encodeField(_ value: Any, _ field: FieldSchema, in schema: MessageSchema, into out: inout [UInt8])
        throws(Failure)
    {
        let wrong = Failure(message: "\(schema.name).\(field.name): \(value) is not a valid value")
        func integer() throws(Failure) -> Int64 {
            if let number = value as? NSNumber, !isBoolean(number) {
                if isInteger(number) {
                    // "Q": read as unsigned, above Int64.max.
                    guard String(cString: number.objCType) != "Q" else { throw wrong }
                    return number.int64Value
                }
                if let exact = Int64(exactly: number.doubleValue) { return exact }
            }
            if let text = value as? String, let parsed = Int64(text) { return parsed }
            throw wrong
        }
        func unsigned() throws(Failure) -> UInt64 {
            if let number = value as? NSNumber, !isBoolean(number) {
                if isInteger(number), number.int64Value >= 0 || String(cString: number.objCType) == "Q" {
                    return number.uint64Value
                }
                if let exact = UInt64(exactly: number.doubleValue) { return exact }
            }
            if let text = value as? String, let parsed = UInt64(text) { return parsed }
            throw wrong
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
                guard let number = value as? NSNumber, !isBoolean(number) else { throw wrong }
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
            guard let number = value as? NSNumber, isBoolean(number) else { throw wrong }
            let flag = number.boolValue
            tag(0)
            out.append(flag ? 1 : 0)
        case .enumeration(let names):
            let number: Int64
            if let name = value as? String {
                if let match = names.first(where: { $0.value == name }) {
                    number = Int64(match.key)
                } else if let parsed = Int64(name) {
                    number = parsed
                } else {
                    throw Failure(message: "\(schema.name).\(field.name): unknown value \"\(name)\"")
                }
            } else {
                number = try integer()
            }
            tag(0)
            appendVarint(UInt64(bitPattern: number), to: &out)
        case .string:
            guard let text = value as? String else { throw wrong }
            tag(2)
            appendVarint(UInt64(text.utf8.count), to: &out)
            out.append(contentsOf: text.utf8)
        case .bytes:
            guard let text = value as? String else { throw wrong }
            let data = try base64Decoded(text)
            tag(2)
            appendVarint(UInt64(data.count), to: &out)
            out.append(contentsOf: data)
        case .message(let name):
            guard let nested = MessageSchema.registry[name] else { throw wrong }
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
