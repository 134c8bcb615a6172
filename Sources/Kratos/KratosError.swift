/// A failed Kratos admin call, classified by what the gateway should do about it. Its texts
/// never contain a recovery link, a code or the API key.
public struct KratosError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Kind: String, Sendable, Equatable {
        /// The identity does not exist (GET 404, link creation 400 "does not exist", code creation 404).
        case identityNotFound
        /// Kratos rejected the request (invalid `expires_in`, other 4xx): retrying will not help.
        case badRequest
        /// 401/403: the project API key is wrong or missing: an operator problem.
        case unauthorized
        /// 5xx, 429, timeouts, refused or dropped connections: worth retrying later.
        case transient
    }

    /// The class of failure.
    public let kind: Kind
    /// The HTTP status Kratos answered with; `nil` when no answer arrived.
    public let status: Int?
    /// Kratos's reason (or a description of the transport failure), sanitized.
    public let reason: String
    /// How long Kratos asked to wait (`Retry-After`), when it said so.
    public let retryAfter: Duration?

    /// An error with the given fields; `reason` is sanitized (control characters removed, length capped).
    public init(kind: Kind, status: Int?, reason: String, retryAfter: Duration? = nil) {
        self.kind = kind
        self.status = status
        self.reason = Self.sanitize(reason)
        self.retryAfter = retryAfter
    }

    public var description: String {
        var text = "Kratos \(kind.rawValue)"
        if let status { text += " (HTTP \(status))" }
        text += ": \(reason)"
        if let retryAfter { text += " (retry after \(retryAfter))" }
        return text
    }

    /// Longest reason kept; Kratos's reasons are a sentence.
    static let maximumReasonLength = 300

    static func sanitize(_ text: String) -> String {
        // Control characters (general category Cc: CR, LF, ESC, …) could forge log lines; they become spaces.
        var printable = ""
        for scalar in text.unicodeScalars {
            printable.unicodeScalars.append(scalar.properties.generalCategory == .control ? " " : scalar)
        }
        guard printable.count > maximumReasonLength else { return printable }
        return String(printable.prefix(maximumReasonLength)) + "…"
    }
}
