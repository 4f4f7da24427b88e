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
            if let number = value as? NSNumber, !(value is Bool), let exact = Int64(exactly: number.doubleValue) {
                return exact
            }
            if let text = value as? String, let parsed = Int64(text) { return parsed }
            throw wrong
        }
        func unsigned() throws(Failure) -> UInt64 {
            if let number = value as? NSNumber, !(value is Bool), let exact = UInt64(exactly: number.doubleValue) {
                return exact
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
                guard let number = value as? NSNumber, !(value is Bool) else { throw wrong }
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
            guard let flag = value as? Bool else { throw wrong }
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

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }

    /// The JSON values one after another in `text` (a stream of requests: `{…}{…}` or one per line), each as
    /// its bytes; strings are skipped whole, so braces inside them do not count.
    public static func documents(in text: [UInt8]) throws(Failure) -> [[UInt8]] {
        var documents: [[UInt8]] = []
        var depth = 0
        var start: Int?
        var inString = false
        var escaped = false
        for (index, byte) in text.enumerated() {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if depth == 0 { start = index }
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                guard depth >= 0 else { throw Failure(message: "invalid JSON: unbalanced \(Character(UnicodeScalar(byte)))") }
                if depth == 0, let begin = start {
                    documents.append(Array(text[begin...index]))
                    start = nil
                }
            case 0x20, 0x0A, 0x0D, 0x09:
                break
            default:
                if depth == 0 { throw Failure(message: "invalid JSON: a stream of objects was expected") }
            }
        }
        guard depth == 0, !inString else { throw Failure(message: "invalid JSON: unexpected end of input") }
        return documents
    }

    // MARK: wire → JSON

    /// The JSON of the `schema` message whose wire encoding is `bytes`.
    public static func json(of bytes: [UInt8], as schema: MessageSchema) throws(Failure) -> String {
        var out = ""
        try writeMessage(bytes[...], as: schema, into: &out)
        return out
    }

    /// One decoded field value, kept until the message's fields are written in order.
    private enum Value {
        case varint(UInt64)
        case fixed32(UInt32)
        case fixed64(UInt64)
        case bytes(ArraySlice<UInt8>)
    }

    private static func writeMessage(_ bytes: ArraySlice<UInt8>, as schema: MessageSchema, into out: inout String)
        throws(Failure)
    {
        let corrupt = Failure(message: "a corrupt \(schema.name)")
        var values: [UInt32: [Value]] = [:]
        var reader = bytes
        while !reader.isEmpty {
            guard let key = readVarint(&reader) else { throw corrupt }
            let number = UInt32(truncatingIfNeeded: key >> 3)
            let value: Value
            switch key & 7 {
            case 0:
                guard let varint = readVarint(&reader) else { throw corrupt }
                value = .varint(varint)
            case 1:
                guard reader.count >= 8 else { throw corrupt }
                value = .fixed64(reader.prefix(8).reversed().reduce(0) { $0 << 8 | UInt64($1) })
                reader = reader.dropFirst(8)
            case 2:
                guard let length = readVarint(&reader), length <= UInt64(reader.count) else { throw corrupt }
                value = .bytes(reader.prefix(Int(length)))
                reader = reader.dropFirst(Int(length))
            case 5:
                guard reader.count >= 4 else { throw corrupt }
                value = .fixed32(reader.prefix(4).reversed().reduce(0) { $0 << 8 | UInt32($1) })
                reader = reader.dropFirst(4)
            default:
                throw corrupt
            }
            values[number, default: []].append(value)
        }
        out += "{"
        var first = true
        for field in schema.fields {
            guard let found = values[field.number] else { continue }
            var rendered: [String] = []
            for value in found {
                if case .bytes(let packed) = value, field.repeated, field.isPackable {
                    var reader = packed
                    while !reader.isEmpty {
                        guard let element = readPacked(&reader, field.kind) else { throw corrupt }
                        rendered.append(try render(element, field))
                    }
                } else {
                    rendered.append(try render(value, field))
                }
            }
            if !field.repeated {
                // The last occurrence wins; a zero value is left out, as jsonpb without EmitDefaults does.
                guard let last = rendered.last, !Self.isZero(last, field.kind) else { continue }
                rendered = [last]
            } else if rendered.isEmpty {
                continue
            }
            out += (first ? "" : ",") + "\"\(field.name)\":"
            first = false
            out += field.repeated ? "[" + rendered.joined(separator: ",") + "]" : rendered[0]
        }
        out += "}"
    }

    /// Whether the rendered JSON is the type's zero value (left out of the output).
    private static func isZero(_ rendered: String, _ kind: FieldSchema.Kind) -> Bool {
        switch kind {
        case .message: false
        case .enumeration(let names): rendered == "\"\(names[0] ?? "0")\"" || rendered == "0"
        default: rendered == "0" || rendered == "\"0\"" || rendered == "false" || rendered == "\"\""
        }
    }

    private static func readPacked(_ reader: inout ArraySlice<UInt8>, _ kind: FieldSchema.Kind) -> Value? {
        switch kind {
        case .fixed32, .sfixed32, .float:
            guard reader.count >= 4 else { return nil }
            defer { reader = reader.dropFirst(4) }
            return .fixed32(reader.prefix(4).reversed().reduce(0) { $0 << 8 | UInt32($1) })
        case .fixed64, .sfixed64, .double:
            guard reader.count >= 8 else { return nil }
            defer { reader = reader.dropFirst(8) }
            return .fixed64(reader.prefix(8).reversed().reduce(0) { $0 << 8 | UInt64($1) })
        default:
            return readVarint(&reader).map(Value.varint)
        }
    }

    private static func render(_ value: Value, _ field: FieldSchema) throws(Failure) -> String {
        let mismatch = Failure(message: "field \(field.name) has an unexpected wire type")
        switch (field.kind, value) {
        case (.int32, .varint(let raw)): return String(Int32(truncatingIfNeeded: raw))
        case (.uint32, .varint(let raw)): return String(UInt32(truncatingIfNeeded: raw))
        case (.sint32, .varint(let raw)):
            return String(Int32(truncatingIfNeeded: Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)))
        case (.int64, .varint(let raw)): return "\"\(Int64(bitPattern: raw))\""
        case (.uint64, .varint(let raw)): return "\"\(raw)\""
        case (.sint64, .varint(let raw)): return "\"\(Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1))\""
        case (.bool, .varint(let raw)): return raw != 0 ? "true" : "false"
        case (.enumeration(let names), .varint(let raw)):
            let number = Int32(truncatingIfNeeded: raw)
            return names[number].map { "\"\($0)\"" } ?? String(number)
        case (.fixed32, .fixed32(let raw)): return String(raw)
        case (.sfixed32, .fixed32(let raw)): return String(Int32(bitPattern: raw))
        case (.float, .fixed32(let raw)): return "\(Float(bitPattern: raw))"
        case (.fixed64, .fixed64(let raw)): return "\"\(raw)\""
        case (.sfixed64, .fixed64(let raw)): return "\"\(Int64(bitPattern: raw))\""
        case (.double, .fixed64(let raw)): return "\(Double(bitPattern: raw))"
        case (.string, .bytes(let raw)): return quoted(String(decoding: raw, as: UTF8.self))
        case (.bytes, .bytes(let raw)): return "\"" + Data(raw).base64EncodedString() + "\""
        case (.message(let name), .bytes(let raw)):
            guard let nested = MessageSchema.registry[name] else { throw mismatch }
            var out = ""
            try writeMessage(raw, as: nested, into: &out)
            return out
        default:
            throw mismatch
        }
    }

    /// A JSON string as Go's encoding/json writes it: `<`, `>`, `&` and U+2028/9 escaped too.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default:
                if scalar.value < 0x20 {
                    out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func readVarint(_ reader: inout ArraySlice<UInt8>) -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = reader.first {
            reader = reader.dropFirst()
            guard shift < 64 else { return nil }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }
}

extension FieldSchema {
    /// Whether a repeated field of this kind may come packed (scalars; not strings, bytes or messages).
    var isPackable: Bool {
        switch kind {
        case .string, .bytes, .message: false
        default: true
        }
    }
}
