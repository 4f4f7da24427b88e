@testable import EtcdService
import Testing

@Suite("CRC-32C (HashKV)")
struct CRC32CTests {
    @Test("the standard check value, and the same result fed in pieces")
    func checkValue() {
        var whole = CRC32C()
        whole.update(Array("123456789".utf8))
        #expect(whole.value == 0xE306_9283)
        var pieces = CRC32C()
        for byte in "123456789".utf8 { pieces.update([byte]) }
        #expect(pieces.value == whole.value)
        #expect(CRC32C().value == 0)
        var zeros = CRC32C()
        zeros.update([UInt8](repeating: 0, count: 32))
        #expect(zeros.value == 0x8A91_36AA)  // RFC 3720 B.4: 32 bytes of zeros
    }
}
