internal import CEtcdProto

// Conversions between protobuf-c's field representations and Swift values, shared by every codec.

extension String {
    /// Copies a protobuf-c string field (never NULL after unpack; protobuf-c uses "" for an absent string).
    init(protobufC pointer: UnsafeMutablePointer<CChar>?) {
        if let pointer {
            self = String(cString: pointer)
        } else {
            self = ""
        }
    }
}

extension Array where Element == UInt8 {
    /// Copies a protobuf-c `bytes` field out of the unpacked message.
    init(protobufC data: ProtobufCBinaryData) {
        if data.len == 0 || data.data == nil {
            self = []
        } else {
            self = Array(UnsafeBufferPointer(start: data.data, count: data.len))
        }
    }
}

/// Packs a message whose C struct has been filled in by `fill`, using protobuf-c's `get_packed_size`/`pack` pair.
///
/// `fill` runs inside the scope where any borrowed C strings and byte buffers are valid; the closure given to it
/// must do the packing before returning.
@inline(__always)
func packMessage(size: () -> Int, pack: (UnsafeMutablePointer<UInt8>) -> Int) -> [UInt8] {
    let count = size()
    if count == 0 { return [] }
    return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        initialized = pack(buffer.baseAddress!)
        precondition(initialized == count, "protobuf-c packed a different size than it announced")
    }
}
