import Foundation

/// Formats a date the way RFC 5322 §3.3 wants it in the `Date:` header, always in UTC:
/// `Wed, 25 Nov 2026 07:30:51 +0000`.
enum RFC5322Date {
    private static let style = Date.VerbatimFormatStyle(
        format: """
            \(weekday: .abbreviated), \(day: .defaultDigits) \(month: .abbreviated) \(year: .defaultDigits) \
            \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) +0000
            """,
        locale: Locale(identifier: "en_US_POSIX"),
        timeZone: .gmt,
        calendar: Calendar(identifier: .gregorian)
    )

    static func format(_ date: Date) -> String { date.formatted(style) }
}
