/// Go's `time.ParseDuration` grammar and `time.Duration.String` format: how Kratos reads and
/// echoes `expires_in`, shared by the Kratos client and the stand-in.
public enum GoDurationSyntax {
    /// The result of parsing: `value` is `nil` when the number does not fit in 64 bits of nanoseconds.
    public struct Signed: Sendable {
        public let value: Int64?
    }

    private static let units: [(String, UInt64)] = [
        ("ns", 1), ("us", 1_000), ("\u{00B5}s", 1_000), ("\u{03BC}s", 1_000), ("ms", 1_000_000),
        ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ]

    /// Parses `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+` as Go does (integer arithmetic for the whole part,
    /// a float for the fraction; "0" alone is allowed). `nil` if malformed.
    public static func parse(_ text: String) -> Signed? {
        var rest = Substring(text)
        var negative = false
        if let first = rest.first, first == "-" || first == "+" {
            negative = first == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return Signed(value: 0) }
        guard !rest.isEmpty else { return nil }
        var total: UInt64 = 0
        var overflow = false
        while !rest.isEmpty {
            let integer = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(integer.count)
            var fraction = Substring("")
            let hasDot = rest.first == "."
            if hasDot {
                rest = rest.dropFirst()
                fraction = rest.prefix { $0.isASCII && $0.isNumber }
                rest = rest.dropFirst(fraction.count)
            }
            guard !integer.isEmpty || !fraction.isEmpty else { return nil }
            let unitText = rest.prefix { !($0 == "." || ($0.isASCII && $0.isNumber)) }
            guard let unit = units.first(where: { $0.0 == unitText })?.1 else { return nil }
            rest = rest.dropFirst(unitText.count)
            guard let whole = integer.isEmpty ? 0 : UInt64(integer) else {
                overflow = true
                continue
            }
            let (scaled, o1) = whole.multipliedReportingOverflow(by: unit)
            var part = scaled
            if !fraction.isEmpty, let digits = Double("0." + fraction) {
                let (sum, o2) = part.addingReportingOverflow(UInt64(digits * Double(unit)))
                part = sum
                overflow = overflow || o2
            }
            let (sum, o3) = total.addingReportingOverflow(part)
            total = sum
            overflow = overflow || o1 || o3
        }
        guard !overflow, total <= UInt64(Int64.max) else { return Signed(value: nil) }
        return Signed(value: negative ? -Int64(total) : Int64(total))
    }

    /// Formats like Go's `time.Duration.String`: `1h0m0s`, `1m30s`, `1.5s`, `500ms`, `0s`.
    public static func format(_ nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        let sign = nanoseconds < 0 ? "-" : ""
        let magnitude = nanoseconds.magnitude
        if magnitude < 1_000_000_000 {
            let (unit, scale): (String, UInt64) =
                magnitude < 1_000 ? ("ns", 1) : magnitude < 1_000_000 ? ("\u{00B5}s", 1_000) : ("ms", 1_000_000)
            return sign + decimal(magnitude, scale: scale) + unit
        }
        let hours = magnitude / 3_600_000_000_000
        let minutes = (magnitude / 60_000_000_000) % 60
        let seconds = decimal(magnitude % 60_000_000_000, scale: 1_000_000_000) + "s"
        if hours > 0 { return "\(sign)\(hours)h\(minutes)m\(seconds)" }
        if minutes > 0 { return "\(sign)\(minutes)m\(seconds)" }
        return sign + seconds
    }

    /// `value / scale` with the fraction's trailing zeros removed, as Go prints it.
    private static func decimal(_ value: UInt64, scale: UInt64) -> String {
        let whole = value / scale
        var fraction = value % scale
        guard fraction > 0 else { return "\(whole)" }
        var digits = String(scale).count - 1
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let padded = String(repeating: "0", count: digits - String(fraction).count) + String(fraction)
        return "\(whole).\(padded)"
    }
}
