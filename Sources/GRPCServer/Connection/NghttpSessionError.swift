/// A fatal error reported by libnghttp2 for a whole session (not for one stream).
public struct NghttpSessionError: Error, Equatable, CustomStringConvertible {
    /// nghttp2's negative error code (`nghttp2_error`).
    public let code: Int32
    /// nghttp2's own description (`nghttp2_strerror`).
    public let message: String

    public var description: String { "HTTP/2 session error \(code): \(message)" }
}
