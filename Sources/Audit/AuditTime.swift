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

    private static let secondsStyle = Date.ISO8601FormatStyle(timeZone: .gmt)
}
