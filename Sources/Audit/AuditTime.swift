import Foundation

/// Conversions between `Date` and whole microseconds since 1970, the audit log's time unit.
public enum AuditTime {
    /// `date` rounded to the nearest microsecond since 1970.
    public static func microseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// The date `microseconds` after 1970.
    public static func date(microseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(microseconds) / 1_000_000)
    }

    /// `date` truncated to microsecond precision (what survives storage).
    public static func truncated(_ date: Date) -> Date {
        Self.date(microseconds: microseconds(date))
    }

    /// RFC 3339 in UTC with six fractional digits: `2026-11-25T08:00:00.123456Z`.
    public static func format(_ date: Date) -> String {
        let micros = microseconds(date)
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = micros - seconds * 1_000_000
        let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(secondsStyle)
        let digits = String(fraction)
        return whole.dropLast() + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    /// The date of a ``format(_:)`` text (`2026-11-25T08:00:00.123456Z`, exactly six fractional
    /// digits), to the microsecond; `nil` for any other text.
    public static func parse(_ text: String) -> Date? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 7, parts[1].last == "Z",
            let fraction = Int64(parts[1].dropLast()), fraction >= 0,
            let whole = try? Date(String(parts[0]) + "Z", strategy: secondsStyle)
        else { return nil }
        return date(microseconds: Int64(whole.timeIntervalSince1970) * 1_000_000 + fraction)
    }

    private static let secondsStyle = Date.ISO8601FormatStyle(timeZone: .gmt)
}
