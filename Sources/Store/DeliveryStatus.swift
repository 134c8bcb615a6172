/// Where a delivery is in its life: `queued` → `sending` → `sent`, or `retrying`/`failed`.
public enum DeliveryStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case queued
    case sending
    case retrying
    case sent
    case failed

    /// True for `sent` and `failed`: nothing more will happen.
    public var isFinal: Bool { self == .sent || self == .failed }
}

/// Why a delivery ended as `failed`.
public enum DeliveryFailure: String, Sendable, Hashable, Codable, CaseIterable {
    /// The SMTP server refused it permanently (5xx).
    case rejected
    /// Its deadline (the link's expiry) passed before it could be sent.
    case expired
    /// The identity no longer exists at Kratos.
    case identityGone = "identity_gone"
    /// Every allowed attempt failed transiently.
    case attemptsExhausted = "attempts_exhausted"
    /// Its batch was cancelled before it was sent.
    case cancelled
}
