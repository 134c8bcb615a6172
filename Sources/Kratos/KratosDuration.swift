import GoDuration

/// A positive span of time written in Go's duration syntax (`1h`, `90m`, `1m30s`, `500ms`), which is
/// what Kratos's admin API accepts as `expires_in`. Malformed, negative and zero values are
/// rejected here, before any call reaches Kratos.
public struct KratosDuration: Sendable, Hashable, CustomStringConvertible {
    /// The length in nanoseconds (always > 0).
    public let nanoseconds: Int64

    /// The reasons a text is not an acceptable `expires_in`.
    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case empty
        case malformed(String)
        case notPositive(String)
        case tooLarge(String)

        public var description: String {
            switch self {
            case .empty: "expires_in is empty"
            case .malformed(let text): "expires_in \"\(text)\" is not a Go duration (e.g. \"1h\", \"1m30s\", \"500ms\")"
            case .notPositive(let text): "expires_in \"\(text)\" must be greater than zero"
            case .tooLarge(let text): "expires_in \"\(text)\" is too large"
            }
        }
    }

    /// Parses Go's `time.ParseDuration` syntax, accepting only positive results.
    public init(parsing text: String) throws(ParseError) {
        guard !text.isEmpty else { throw .empty }
        guard let signed = GoDurationSyntax.parse(text) else { throw .malformed(text) }
        guard let value = signed.value else { throw .tooLarge(text) }
        guard value > 0 else { throw .notPositive(text) }
        self.nanoseconds = value
    }

    /// A duration of whole nanoseconds; `nil` when not positive.
    public init?(nanoseconds: Int64) {
        guard nanoseconds > 0 else { return nil }
        self.nanoseconds = nanoseconds
    }

    /// A duration from a Swift `Duration`; `nil` when not positive or not representable.
    public init?(_ duration: Duration) {
        guard let total = duration.exactNanoseconds else { return nil }
        self.init(nanoseconds: total)
    }

    /// The same span as a Swift `Duration`.
    public var duration: Duration { .nanoseconds(nanoseconds) }

    /// Go's canonical text for this duration (`time.Duration.String`), e.g. `1h0m0s`, `1m30s`, `500ms`.
    public var description: String { GoDurationSyntax.format(nanoseconds) }
}
