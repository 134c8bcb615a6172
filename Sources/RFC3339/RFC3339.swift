import Foundation

/// RFC 3339 times as every part of the gateway reads them: the API's query parameters, the command
/// line's options and Kratos's answers (Go's `time.Time`), with 0–9 fractional digits, an offset or
/// `Z`, and the lower-case `t` and `z` RFC 3339 allows (Foundation's ISO 8601 parser does not).
public enum RFC3339 {
    /// The time `text` names, or nil when it is not an RFC 3339 date-time.
    public static func parse(_ text: String) -> Date? {
        // No letter but `T` and `Z` can appear in a valid time.
        let text = text.uppercased()
        var base = text
        var fraction = 0.0
        if let dot = text.firstIndex(of: ".") {
            let afterDot = text[text.index(after: dot)...]
            let digits = afterDot.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let value = Double("0." + digits) else { return nil }
            fraction = value
            base = String(text[..<dot]) + String(afterDot.dropFirst(digits.count))
        }
        guard let date = try? Date(base, strategy: seconds) else { return nil }
        return date.addingTimeInterval(fraction)
    }

    /// Whole-second RFC 3339 (`2026-01-31T12:00:00Z`, `…+01:00`); a Sendable style made once.
    private static let seconds = Date.ISO8601FormatStyle()
}
