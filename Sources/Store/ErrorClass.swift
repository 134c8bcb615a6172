/// What a failed attempt says about the next one; stored as a delivery's `last_error_class`.
public enum ErrorClass: String, Sendable, Hashable, CaseIterable {
    /// Try again later: 4xx replies, timeouts, Kratos 5xx/429, connections refused or dropped.
    case transient
    /// This delivery can never succeed: an SMTP 5xx, or the identity is gone.
    case permanent
    /// The operator must fix something (TLS, credentials, Kratos key, a template); says nothing
    /// about the delivery, so it does not use up its attempts.
    case configuration
}
