import NIOCore

/// Tells a gRPC client from a plain HTTP/1.x request by a connection's first bytes, as etcd's cmux does on its
/// client port: gRPC clients open with the HTTP/2 preface (`PRI * HTTP/2.0…`), `curl` and Prometheus with a request
/// line (`GET /health HTTP/1.1`). Until it knows, it holds the bytes back; then it installs the handlers for that
/// protocol after itself, hands them what it held, and leaves the pipeline. The gRPC handler is installed only
/// then, so an HTTP/1 client never receives the server's SETTINGS frame (an HTTP/2 client sends its preface
/// without waiting for the server's, so it waits for nothing).
final class ProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// What a connection's first bytes say it speaks.
    enum Verdict: Equatable {
        /// HTTP/2 (gRPC), or bytes that are no HTTP/1 request: the HTTP/2 side answers those as it always did.
        case http2
        /// An HTTP/1.x request line.
        case http1
        /// Too few bytes yet.
        case undecided
    }

    /// Request methods that make a connection HTTP/1 (`PRI`, the HTTP/2 preface's, is not one).
    static let http1Methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT"]

    /// The verdict on a connection's first bytes: a known method followed by a space is HTTP/1; anything else is
    /// decided as HTTP/2 as soon as it cannot become such a method (the longest, `OPTIONS`, has 7 letters).
    static func verdict<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Verdict {
        var token: [UInt8] = []
        for byte in bytes.prefix(8) {
            if byte == UInt8(ascii: " ") {
                return http1Methods.contains(String(decoding: token, as: UTF8.self)) ? .http1 : .http2
            }
            guard byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") else { return .http2 }
            token.append(byte)
        }
        return bytes.count >= 8 ? .http2 : .undecided
    }

    /// The bytes read so far, while undecided.
    private var held: ByteBuffer?
    /// Installs the gRPC connection handler after the sniffer.
    private let installHTTP2: (ChannelHandlerContext) throws -> Void
    /// Installs the HTTP/1 handlers after the sniffer.
    private let installHTTP1: (ChannelHandlerContext) throws -> Void

    init(
        installHTTP2: @escaping (ChannelHandlerContext) throws -> Void,
        installHTTP1: @escaping (ChannelHandlerContext) throws -> Void
    ) {
        self.installHTTP2 = installHTTP2
        self.installHTTP1 = installHTTP1
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var earlier = held {
            earlier.writeBuffer(&bytes)
            bytes = earlier
        }
        let verdict = Self.verdict(bytes.readableBytesView)
        guard verdict != .undecided else {
            held = bytes
            return
        }
        held = nil
        do {
            try verdict == .http1 ? installHTTP1(context) : installHTTP2(context)
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(wrapInboundOut(bytes))
        context.fireChannelReadComplete()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// Held back while undecided: the handlers that would act on it are not there yet.
    func channelReadComplete(context: ChannelHandlerContext) {}
}
