import Testing

@testable import MVCC

/// GoSort against Go 1.19's own `sort.Sort`: the orders below were printed by a Go program sorting the same
/// items (index i, value i * 7919 % m) with `sort.Sort` and `sort.Sort(sort.Reverse(…))`: scripts/gosort-vectors.go.
@Suite("Go's sort")
struct GoSortTests {
    private func sorted(count: Int, modulus: Int, reverse: Bool) -> [Int] {
        var items = (0..<count).map { (index: $0, value: $0 * 7919 % modulus) }
        GoSort.sort(&items) { reverse ? $1.value < $0.value : $0.value < $1.value }
        return items.map(\.index)
    }

    @Test("60 items in 4 tied groups, ascending: Go's order among the ties")
    func ascending() {
        #expect(sorted(count: 60, modulus: 4, reverse: false) == [
            52, 8, 56, 32, 4, 24, 28, 0, 16, 36, 48, 20, 12, 40, 44, 7, 15, 43, 47, 19, 11, 39, 51, 23, 55, 35,
            3, 27, 59, 31, 30, 6, 26, 58, 34, 2, 22, 54, 38, 50, 18, 10, 42, 46, 14, 45, 17, 13, 41, 49, 21, 9,
            29, 53, 37, 5, 25, 57, 33, 1
        ])
    }

    @Test("the same, through sort.Reverse")
    func descending() {
        #expect(sorted(count: 60, modulus: 4, reverse: true) == [
            17, 1, 57, 53, 49, 5, 45, 41, 37, 9, 33, 29, 25, 13, 21, 46, 30, 58, 18, 2, 54, 14, 22, 50, 6, 42,
            26, 38, 34, 10, 27, 31, 59, 11, 15, 35, 19, 55, 3, 39, 51, 7, 23, 43, 47, 24, 52, 44, 48, 4, 12,
            40, 0, 16, 20, 8, 56, 36, 28, 32
        ])
    }

    @Test("200 items in 3 tied groups (partitions of equal elements, pattern breaking)")
    func manyTies() {
        #expect(sorted(count: 200, modulus: 3, reverse: false) == [
            69, 198, 195, 3, 192, 189, 6, 186, 183, 9, 180, 177, 12, 174, 171, 15, 168, 165, 18, 162, 159, 21,
            156, 153, 24, 150, 147, 27, 144, 141, 30, 138, 135, 33, 132, 129, 36, 126, 123, 39, 120, 117, 42,
            114, 111, 45, 108, 105, 48, 102, 0, 51, 99, 96, 54, 93, 90, 57, 87, 84, 60, 81, 78, 63, 75, 72, 66,
            101, 134, 197, 2, 71, 65, 194, 74, 191, 5, 77, 62, 188, 80, 185, 8, 83, 59, 182, 86, 179, 11, 89,
            56, 176, 92, 173, 14, 95, 53, 170, 98, 167, 68, 50, 17, 164, 104, 47, 161, 107, 20, 158, 110, 44,
            155, 113, 23, 152, 116, 41, 149, 119, 26, 146, 122, 38, 143, 125, 29, 140, 128, 35, 137, 131, 32,
            100, 166, 34, 136, 130, 31, 139, 127, 37, 142, 124, 28, 145, 121, 40, 148, 118, 25, 151, 115, 43,
            154, 112, 22, 157, 109, 46, 160, 106, 19, 163, 103, 49, 133, 52, 16, 169, 97, 94, 172, 55, 13, 175,
            91, 88, 178, 58, 10, 181, 85, 82, 184, 61, 7, 187, 79, 76, 190, 64, 4, 193, 73, 70, 196, 67, 1,
            199
        ])
    }

    @Test("sorted either way, whatever the ties")
    func sortsCorrectly() {
        for count in [0, 1, 2, 12, 13, 49, 50, 51, 1000] {
            var items = (0..<count).map { ($0 * 7919) % 17 }
            GoSort.sort(&items, by: <)
            #expect(items == items.sorted())
            GoSort.sort(&items, by: >)
            #expect(items == items.sorted(by: >))
        }
    }
}
