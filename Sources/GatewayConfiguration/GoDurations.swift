import GoDuration

/// Converts between Swift's `Duration` and Go's duration text (`60s`, `5m`, `1h0m0s`), the syntax Kratos uses.
enum GoDurations {
    /// Go's rendering, e.g. `1h0m0s`.
    static func format(_ duration: Duration) -> String {
        GoDurationSyntax.format(duration.clampedNanoseconds)
    }
}
