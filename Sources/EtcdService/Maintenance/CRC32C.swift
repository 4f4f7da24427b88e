/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), fed in pieces: the checksum etcd's `HashKV` uses.
struct CRC32C {
    /// The running remainder, inverted as the algorithm keeps it.
    private var state: UInt32 = 0xFFFF_FFFF

    /// The remainder of each byte value, one table lookup per byte.
    private static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    init() {}

    mutating func update(_ bytes: some Sequence<UInt8>) {
        var crc = state
        for byte in bytes { crc = Self.table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        state = crc
    }

    /// The checksum of everything given.
    var value: UInt32 { ~state }
}
