/// What a caller may do: the scopes an API key is given in the configuration's `api_keys`.
public enum Scope: String, Sendable, Equatable, Hashable, CaseIterable, Comparable {
    /// `POST /v1/recovery-emails` to the identity's own recovery addresses.
    case send = "recovery:send"
    /// Sending to any recipient, not only the identity's recovery addresses.
    case sendAnyRecipient = "recovery:send:any-recipient"
    /// Reading deliveries.
    case read = "recovery:read"
    /// In the console: looking an identity up by login email, and seeing its traits and its
    /// recovery addresses in full (without it, addresses are masked as the API masks them).
    case identityRead = "identity:read"
    /// Reading, exporting and verifying the audit log.
    case auditRead = "audit:read"
    /// `POST /v1/courier/kratos`: the key Kratos's HTTP courier holds.
    case courierKratos = "courier:kratos"
    /// Reading, pausing, resuming and cancelling any key's batches (without it, only the creating
    /// key's own: another key's batch is not found).
    case batchAdmin = "batch:admin"

    public static func < (lhs: Scope, rhs: Scope) -> Bool { lhs.rawValue < rhs.rawValue }
}
