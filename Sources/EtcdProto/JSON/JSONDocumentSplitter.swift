/// Cuts a stream of JSON values (`{…}{…}`, or one per line) into single values as its bytes arrive, as grpc-gateway
/// reads the body of a streaming call with Go's `json.Decoder`: each value can be served before the next one has
/// arrived. Strings are skipped whole, so brackets inside them do not count. Only objects and arrays are taken as
/// values (a gateway request is an object); anything else between them is an error.
public struct JSONDocumentSplitter: Sendable {
    /// The bytes of the value being read, from its opening bracket; empty between values.
    private var partial: [UInt8] = []
    /// How many brackets of the value being read are open.
    private var depth = 0
    /// Whether the scan is inside a string, and just after its backslash.
    private var inString = false
    private var escaped = false
    /// The largest value accepted; a longer one is an error rather than held without bound.
    public let maxDocumentBytes: Int
    /// Why the stream cannot be read on (text that is no stream of objects or arrays, or a value over
    /// ``maxDocumentBytes``); once set, later bytes are ignored.
    public private(set) var failure: ProtoJSON.Failure?

    public init(maxDocumentBytes: Int = 16 << 20) {
        self.maxDocumentBytes = maxDocumentBytes
    }

    /// The values that `bytes` completes, in order (bytes of a value not yet complete are kept for the next call).
    /// The values before a ``failure`` are returned; nothing after it.
    public mutating func append(_ bytes: some Sequence<UInt8>) -> [[UInt8]] {
        var documents: [[UInt8]] = []
        guard failure == nil else { return documents }
        for byte in bytes {
            if depth > 0 {
                partial.append(byte)
                if partial.count > maxDocumentBytes {
                    failure = ProtoJSON.Failure(message: "a JSON value over \(maxDocumentBytes) bytes")
                    return documents
                }
            }
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\"") where depth > 0:
                inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if depth == 0 { partial = [byte] }
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard depth > 0 else {
                    failure = ProtoJSON.invalidCharacter(byte)
                    return documents
                }
                depth -= 1
                if depth == 0 {
                    documents.append(partial)
                    partial = []
                }
            case 0x20, 0x0A, 0x0D, 0x09:
                break
            default:
                if depth == 0 {
                    failure = ProtoJSON.invalidCharacter(byte)
                    return documents
                }
            }
        }
        return documents
    }

    /// The stream ended: the failure that leaves it unread (Go's "unexpected EOF" when it ended inside a value), or
    /// nil.
    public var failureAtEnd: ProtoJSON.Failure? {
        failure ?? (depth > 0 ? ProtoJSON.Failure(message: "unexpected EOF") : nil)
    }
}
