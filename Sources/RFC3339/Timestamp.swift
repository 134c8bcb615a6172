import Foundation

/// Times as the gateway writes them (API answers, log lines, audit details): RFC 3339, UTC, with
/// milliseconds.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        date.formatted(style)
    }

    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
}
