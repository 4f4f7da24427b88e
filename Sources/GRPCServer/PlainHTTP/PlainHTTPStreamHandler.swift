/// Serves one plain HTTP request answered as a stream (see ``PlainHTTPResponder/streamHandler(for:response:)``).
/// Driven on the connection's event loop; it answers through the ``PlainHTTPResponseStream`` it was made with.
public protocol PlainHTTPStreamHandler: AnyObject {
    /// Request body bytes, as they arrive.
    func receive(_ bytes: [UInt8])

    /// The request body is complete. The response stays open until the handler ends it.
    func receiveEnd()

    /// The connection can take more after ``PlainHTTPResponseStream/isWritable`` was false.
    func becameWritable()

    /// The connection closed before the handler ended the response: stop producing and release what it holds.
    func cancelled()
}
