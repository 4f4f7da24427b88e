import GRPCServer
import Testing

@Suite("grpc-timeout parsing")
struct GRPCTimeoutTests {
    @Test(
        "every unit converts to nanoseconds",
        arguments: [
            ("1H", Int64(3_600_000_000_000)), ("2M", 120_000_000_000), ("3S", 3_000_000_000), ("4994857u", 4_994_857_000),
            ("5m", 5_000_000), ("6n", 6), ("0S", 0),
        ])
    func units(header: String, nanoseconds: Int64) {
        #expect(GRPCTimeout(headerValue: header)?.nanoseconds == nanoseconds)
    }

    @Test("malformed values are refused", arguments: ["", "S", "1", "1x", "123456789S", "-1S", "1.5S", "soon"])
    func malformed(header: String) {
        #expect(GRPCTimeout(headerValue: header) == nil)
    }

    @Test("the largest value saturates instead of overflowing")
    func saturates() {
        #expect(GRPCTimeout(headerValue: "99999999H")?.nanoseconds == .max)
    }
}
