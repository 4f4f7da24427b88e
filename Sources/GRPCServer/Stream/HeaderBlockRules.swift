/// The rules of RFC 9113 §8.2–8.3 that a request's header block and a client's trailers must follow; a block that
/// breaks one is malformed and its stream is reset with PROTOCOL_ERROR, as grpc-go (which etcd runs on) does.
///
/// Vigil checks these itself rather than through nghttp2's HTTP messaging checks, because those also require
/// `:authority` to be a bare `host:port`, and etcd's Go client sends the endpoint URL there whenever it dials a
/// single member for Maintenance (`etcdctl --endpoints=http://127.0.0.1:2379 endpoint status`, `defrag`): grpc-go
/// accepts any valid field value, so Vigil does too.
enum HeaderBlockRules {
    /// Whether `fields` are a well-formed request head: `:method`, `:scheme` and `:path` (non-empty) once each,
    /// `:authority` at most once, no other pseudo-header, pseudo-headers before every regular field, and every
    /// regular field well-formed.
    static func isWellFormedRequest(_ fields: [HeaderField]) -> Bool {
        var seen: (method: Bool, scheme: Bool, path: Bool, authority: Bool) = (false, false, false, false)
        var regularSeen = false
        for field in fields {
            guard field.name.utf8.first == UInt8(ascii: ":") else {
                guard isWellFormedRegular(field) else { return false }
                regularSeen = true
                continue
            }
            guard !regularSeen, isValidValue(field.value) else { return false }
            switch field.name {
            case ":method" where !seen.method: seen.method = true
            case ":scheme" where !seen.scheme: seen.scheme = true
            case ":path" where !seen.path && !field.value.isEmpty: seen.path = true
            case ":authority" where !seen.authority: seen.authority = true
            default: return false  // unknown, repeated, or an empty path
            }
        }
        return seen.method && seen.scheme && seen.path
    }

    /// Whether `fields` are well-formed trailers: regular fields only, each well-formed.
    static func isWellFormedTrailer(_ fields: [HeaderField]) -> Bool {
        fields.allSatisfy { $0.name.utf8.first != UInt8(ascii: ":") && isWellFormedRegular($0) }
    }

    /// A regular field: a lower-case token name, a valid value, not connection-specific (fields that only mean
    /// something to HTTP/1.1 connections, §8.2.2), and `te` only as `trailers`. Checked on every request, so by
    /// plain comparisons (a set of names would hash each one).
    private static func isWellFormedRegular(_ field: HeaderField) -> Bool {
        guard isValidName(field.name), isValidValue(field.value) else { return false }
        // By length first: most names match none of these lengths, and comparing a name of over 15 bytes with a
        // string takes the slow path of String's equality.
        switch field.name.utf8.count {
        case 2: return field.name != "te" || field.value == "trailers" || field.value.lowercased() == "trailers"
        case 7: return field.name != "upgrade"
        case 10: return field.name != "connection" && field.name != "keep-alive"
        case 16: return field.name != "proxy-connection"
        case 17: return field.name != "transfer-encoding"
        default: return true
        }
    }

    /// A non-empty token (RFC 9110 §5.6.2) without upper-case letters.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && allBytes(of: name, satisfy: isLowerCaseTokenByte)
    }

    /// A letter (lower case), a digit, or one of the symbols ``!#$%&'*+-.^_`|~``.
    private static func isLowerCaseTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"),
            UInt8(ascii: "_"), UInt8(ascii: "."):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "^"), UInt8(ascii: "`"),
            UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// No control character but horizontal tab (what grpc-go's HTTP/2 framer accepts).
    static func isValidValue(_ value: String) -> Bool {
        allBytes(of: value) { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
    }

    /// Whether every UTF-8 byte of `text` satisfies `test`: over the string's contiguous bytes where it has them
    /// (every native string; a loop over a buffer, where the UTF-8 view checks its representation per byte).
    private static func allBytes(of text: String, satisfy test: (UInt8) -> Bool) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { $0.allSatisfy(test) } ?? text.utf8.allSatisfy(test)
    }
}
