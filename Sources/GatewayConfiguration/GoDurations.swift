import GoDuration

/// Converts between Swift's `Duration` and Go's duration text (`60s`, `5m`, `1h0m0s`), the syntax Kratos uses.
enum GoDurations {
    /// The duration's whole nanoseconds.
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Go's rendering, e.g. `1h0m0s`.
    static func format(_ duration: Duration) -> String {
        GoDurationSyntax.format(nanoseconds(duration))
    }
}
