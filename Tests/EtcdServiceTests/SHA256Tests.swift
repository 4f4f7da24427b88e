@testable import EtcdService
import Testing

@Suite("SHA-256 (snapshot digests)")
struct SHA256Tests {
    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    private func digest(_ text: String) -> String {
        var hash = SHA256()
        hash.update(Array(text.utf8))
        return hex(hash.finalize())
    }

    @Test("FIPS 180-4 test vectors")
    func vectors() {
        #expect(digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var million = SHA256()
        for _ in 0..<1_000 { million.update([UInt8](repeating: UInt8(ascii: "a"), count: 1_000)) }
        #expect(hex(million.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("the digest does not depend on how the bytes are split; lengths around the padding boundary")
    func pieces() {
        for length in [55, 56, 63, 64, 65, 119, 120, 128, 1_000] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var whole = SHA256()
            whole.update(bytes)
            for split in [1, 3, 17, 64, 100] {
                var pieces = SHA256()
                var start = 0
                while start < bytes.count {
                    let end = min(bytes.count, start + split)
                    pieces.update(Array(bytes[start..<end]))
                    start = end
                }
                #expect(pieces.finalize() == whole.finalize(), "length \(length), pieces of \(split)")
            }
        }
    }
}
