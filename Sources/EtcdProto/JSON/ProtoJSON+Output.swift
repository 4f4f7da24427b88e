import Foundation

// Protobuf wire bytes → JSON, as etcd's gateway writes responses.
extension ProtoJSON {
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
        case .enumeration(_, let names): rendered == "\"\(names[0] ?? "0")\"" || rendered == "0"
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
        case (.enumeration(_, let names), .varint(let raw)):
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
