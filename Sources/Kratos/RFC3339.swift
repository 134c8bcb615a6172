import Foundation

/// Parses the RFC 3339 times Kratos (Go's `time.Time`) writes, with 0–9 fractional digits.
enum RFC3339 {
    static func parse(_ text: String) -> Date? {
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
