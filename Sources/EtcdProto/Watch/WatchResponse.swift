/// `etcdserverpb.WatchResponse`.
///
/// The server rarely builds one with ``events`` filled in: it encodes each event once (``EncodedEvent``) and
/// appends the same bytes to every response that carries it.
public struct WatchResponse: ProtoMessage {
    public var header: ResponseHeader?
    public var watchID: Int64 = 0
    public var created = false
    public var canceled = false
    public var compactRevision: Int64 = 0
    public var cancelReason = ""
    public var fragment = false
    public var events: [Mvccpb.Event] = []

    public init(
        header: ResponseHeader? = nil, watchID: Int64 = 0, created: Bool = false, canceled: Bool = false,
        compactRevision: Int64 = 0, cancelReason: String = "", fragment: Bool = false, events: [Mvccpb.Event] = []
    ) {
        self.header = header
        self.watchID = watchID
        self.created = created
        self.canceled = canceled
        self.compactRevision = compactRevision
        self.cancelReason = cancelReason
        self.fragment = fragment
        self.events = events
    }
}

/// One event, encoded once as a complete `events` field of `WatchResponse` (tag 11, length, `mvccpb.Event` bytes),
/// ready to be appended to any number of responses: protobuf decoders accept a message's fields in any order and
/// concatenated encodings merge, so `shell + event + event` is a valid `WatchResponse`.
public struct EncodedEvent: Sendable {
    /// The field bytes.
    public let bytes: [UInt8]

    public init(_ event: Mvccpb.Event) {
        let body = event.protobufBytes()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(body.count + 6)
        bytes.append(0x5A)  // field 11, wire type 2 (length-delimited)
        appendVarint(UInt64(body.count), to: &bytes)
        bytes.append(contentsOf: body)
        self.bytes = bytes
    }
}

extension WatchResponse {
    /// The size of the `watch_id` field (2) alone: 0 for ID 0, which proto3 omits.
    public static func watchIDFieldSize(_ watchID: Int64) -> Int {
        guard watchID != 0 else { return 0 }
        var size = 1
        forEachVarintByte(UInt64(bitPattern: watchID)) { _ in size += 1 }
        return size
    }

    /// Emits the bytes of the `watch_id` field (2) alone, to follow a shared encoding of the other fields; nothing
    /// for 0, which proto3 omits. Byte by byte, so that callers write straight into their own buffer.
    public static func writeWatchIDField(_ watchID: Int64, _ emit: (UInt8) -> Void) {
        guard watchID != 0 else { return }
        emit(0x10)  // field 2, wire type 0 (varint)
        forEachVarintByte(UInt64(bitPattern: watchID), emit)
    }
}

/// Appends `value` as a protobuf base-128 varint.
private func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
    forEachVarintByte(value) { bytes.append($0) }
}

/// Emits `value`'s protobuf base-128 varint bytes in order.
private func forEachVarintByte(_ value: UInt64, _ emit: (UInt8) -> Void) {
    var value = value
    while value >= 0x80 {
        emit(UInt8(truncatingIfNeeded: value) | 0x80)
        value >>= 7
    }
    emit(UInt8(value))
}
