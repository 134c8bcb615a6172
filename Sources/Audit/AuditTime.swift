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
}
