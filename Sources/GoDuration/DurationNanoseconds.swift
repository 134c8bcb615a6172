extension Duration {
    /// The duration's whole nanoseconds (fractions truncated toward zero), or nil when they do not
    /// fit in `Int64` (about 292 years): the one conversion every part of the gateway uses.
    public var exactNanoseconds: Int64? {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (total, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflow2 ? nil : total
    }

    /// The duration's whole nanoseconds, clamped to `Int64`.
    public var clampedNanoseconds: Int64 {
        exactNanoseconds ?? (components.seconds < 0 ? .min : .max)
    }
}
