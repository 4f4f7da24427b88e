/// A parsed `grpc-timeout` header: at most 8 ASCII digits followed by a unit (H, M, S, m, u, n).
public struct GRPCTimeout: Hashable, Sendable {
    /// The timeout in nanoseconds (saturating: 99999999 hours does not overflow).
    public let nanoseconds: Int64

    public init?(headerValue: String) {
        let bytes = Array(headerValue.utf8)
        guard bytes.count >= 2, bytes.count <= 9 else { return nil }
        var amount: Int64 = 0
        for digit in bytes.dropLast() {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            amount = amount * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        let unit: Int64
        switch bytes.last! {
        case UInt8(ascii: "H"): unit = 3_600_000_000_000
        case UInt8(ascii: "M"): unit = 60_000_000_000
        case UInt8(ascii: "S"): unit = 1_000_000_000
        case UInt8(ascii: "m"): unit = 1_000_000
        case UInt8(ascii: "u"): unit = 1_000
        case UInt8(ascii: "n"): unit = 1
        default: return nil
        }
        let (product, overflow) = amount.multipliedReportingOverflow(by: unit)
        nanoseconds = overflow ? .max : product
    }
}
