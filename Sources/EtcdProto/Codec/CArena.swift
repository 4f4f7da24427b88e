internal import CEtcdProto
import Foundation

/// Memory for building protobuf-c messages to pack: every struct, byte buffer and pointer array allocated here lives
/// until the arena is released, so nested messages can point at each other freely. One arena per encode.
final class CArena {
    /// Every allocation, freed in `deinit`.
    private var allocations: [UnsafeMutableRawPointer] = []

    init() {
        allocations.reserveCapacity(16)
    }

    deinit {
        for pointer in allocations { free(pointer) }
    }

    /// Zeroed storage for `count` values of `T`.
    func allocate<T>(_ type: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        let raw = calloc(max(count, 1), MemoryLayout<T>.stride)!
        allocations.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// A protobuf-c message of type `T`, initialised by protobuf-c's `*__init` and then filled by `fill`.
    func message<T>(_ initialise: (UnsafeMutablePointer<T>) -> Void, _ fill: (inout T) -> Void) -> UnsafeMutablePointer<T> {
        let pointer = allocate(T.self)
        initialise(pointer)
        fill(&pointer.pointee)
        return pointer
    }

    /// A `bytes` field holding a copy of `bytes`.
    func bytes(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let pointer = allocate(UInt8.self, count: bytes.count)
        bytes.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: bytes.count) }
        return ProtobufCBinaryData(len: bytes.count, data: pointer)
    }

    /// A C array of message pointers (a repeated message field).
    func pointerArray<T>(_ items: [UnsafeMutablePointer<T>]) -> UnsafeMutablePointer<UnsafeMutablePointer<T>?>? {
        guard !items.isEmpty else { return nil }
        let array = allocate(UnsafeMutablePointer<T>?.self, count: items.count)
        for (index, item) in items.enumerated() { array[index] = item }
        return array
    }
}

/// Packs a filled protobuf-c message into bytes.
func pack<T>(
    _ message: UnsafeMutablePointer<T>, size: (UnsafePointer<T>) -> Int,
    pack: (UnsafePointer<T>, UnsafeMutablePointer<UInt8>) -> Int
) -> [UInt8] {
    packMessage(size: { size(message) }, pack: { pack(message, $0) })
}

/// Unpacks `bytes` with a protobuf-c `*__unpack` function, converts the C struct with `convert`, and frees it.
func unpack<T, Result>(
    _ bytes: [UInt8], name: String,
    unpack: (UnsafeMutablePointer<ProtobufCAllocator>?, Int, UnsafePointer<UInt8>?) -> UnsafeMutablePointer<T>?,
    free: (UnsafeMutablePointer<T>?, UnsafeMutablePointer<ProtobufCAllocator>?) -> Void,
    convert: (T) -> Result
) throws(ProtoDecodingError) -> Result {
    let result: Result? = bytes.withUnsafeBufferPointer { buffer in
        // An empty message has no buffer: protobuf-c reads nothing when the length is 0.
        guard let message = unpack(nil, buffer.count, buffer.baseAddress) else { return nil }
        defer { free(message, nil) }
        return convert(message.pointee)
    }
    guard let result else { throw ProtoDecodingError(messageName: name) }
    return result
}

/// The elements of a repeated message field.
func repeated<T, Result>(_ count: Int, _ items: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?, _ convert: (T) -> Result)
    -> [Result]
{
    guard count > 0, let items else { return [] }
    return (0..<count).compactMap { index in items[index].map { convert($0.pointee) } }
}

extension Bool {
    /// protobuf-c's `protobuf_c_boolean`.
    var protobufC: protobuf_c_boolean { self ? 1 : 0 }
}
