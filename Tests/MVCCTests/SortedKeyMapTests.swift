import MVCC
import Testing

@Suite("sorted key map")
struct SortedKeyMapTests {
    @Test("random inserts, removals and range scans agree with a sorted reference", arguments: [1, 2, 3])
    func randomised(seed: UInt64) {
        var generator = SplitMix(seed: seed)
        var map = SortedKeyMap<Int>(maxChunkCount: 8)
        var reference: [[UInt8]: Int] = [:]
        for step in 0..<4000 {
            let key = (0..<Int(generator.next() % 3 + 1)).map { _ in UInt8(generator.next() % 6) * 50 }
            if generator.next() % 3 == 0 {
                #expect(map.remove(key) == reference.removeValue(forKey: key))
            } else {
                map.insert(key, step)
                reference[key] = step
            }
            #expect(map.count == reference.count)
            if step % 200 == 0 {
                let low = (0..<2).map { _ in UInt8(generator.next() % 6) * 50 }
                let high = (0..<2).map { _ in UInt8(generator.next() % 6) * 50 }
                expectScan(map, from: low, upTo: high, matches: reference)
            }
        }
        for (key, value) in reference { #expect(map[key] == value) }
    }

    /// Checks that a scan of `map` over `[low, high)` yields exactly the reference's keys in that range, in order.
    private func expectScan(
        _ map: SortedKeyMap<Int>, from low: [UInt8], upTo high: [UInt8], matches reference: [[UInt8]: Int]
    ) {
        var scanned: [[UInt8]] = []
        map.forEach(from: low, upTo: high) { key, _ in
            scanned.append(key)
            return true
        }
        let expected = reference.keys.filter { !KeyOrder.less($0, low) && KeyOrder.less($0, high) }
            .sorted(by: KeyOrder.less)
        #expect(scanned == expected)
    }

    /// Keys built to make abbreviated comparisons undecided: a long shared prefix (so the abbreviations start after
    /// it), keys that are prefixes of others, zero bytes (an abbreviation pads with zeros), keys longer than the
    /// eight abbreviated bytes that differ only past them, and now and then a key outside the shared prefix (which
    /// shortens it, map-wide or in a chunk).
    private static func awkwardKey(_ generator: inout SplitMix) -> [UInt8] {
        let prefix: [UInt8] = Array("/registry/pods/".utf8)
        var key = generator.next() % 16 == 0 ? [UInt8(generator.next() % 3) * 60] : prefix
        let suffixLength = Int(generator.next() % 14)
        for position in 0..<suffixLength {
            // Mostly the same bytes early on, so that keys differ late or only in length.
            let choices: UInt64 = position < 9 ? 2 : 3
            key.append(UInt8(generator.next() % choices) * 0x40)
        }
        return key
    }

    @Test(
        "keys with shared prefixes, zero bytes and equal abbreviations agree with a sorted reference",
        arguments: [(11, 4), (12, 8), (13, 64)])
    func abbreviations(seed: UInt64, chunk: Int) {
        var generator = SplitMix(seed: seed)
        var map = SortedKeyMap<Int>(maxChunkCount: chunk)
        var reference: [[UInt8]: Int] = [:]
        for step in 0..<6000 {
            let key = Self.awkwardKey(&generator)
            switch generator.next() % 5 {
            case 0, 1:
                #expect(map.remove(key) == reference.removeValue(forKey: key))
            default:
                map.insert(key, step)
                reference[key] = step
            }
            let probe = Self.awkwardKey(&generator)
            #expect(map[probe] == reference[probe])
            if step % 250 == 0 {
                let low = Self.awkwardKey(&generator)
                let high = Self.awkwardKey(&generator)
                expectScan(map, from: low, upTo: high, matches: reference)
            }
        }
        #expect(map.count == reference.count)
        for (key, value) in reference { #expect(map[key] == value) }
        var all: [[UInt8]] = []
        map.forEach { key, _ in all.append(key) }
        #expect(all == reference.keys.sorted(by: KeyOrder.less))
    }

    @Test("a scan with no upper bound runs to the end, and stops when the body says so")
    func openScan() {
        var map = SortedKeyMap<Int>(maxChunkCount: 4)
        for i in 0..<50 { map.insert([UInt8(i)], i) }
        var seen: [Int] = []
        map.forEach(from: [40], upTo: nil) { _, value in
            seen.append(value)
            return value < 45
        }
        #expect(seen == [40, 41, 42, 43, 44, 45])
    }
}

/// A small deterministic generator for randomised tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
