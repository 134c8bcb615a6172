import Foundation

/// One sealed entry of the audit log: a draft plus its place in the HMAC chain.
public struct AuditEvent: Sendable, Hashable {
    /// The 64-zero `prevHash` of the first event.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// 1-based, gapless position in the log.
    public var seq: Int64
    public var id: UUID
    /// UTC, truncated to whole microseconds.
    public var at: Date
    /// API key name, or `system`.
    public var actor: String
    public var sourceIP: String?
    public var requestID: String?
    public var action: AuditAction
    public var deliveryID: UUID?
    public var identityID: UUID?
    /// HMAC-SHA256 of the lower-cased address under the audit key, hex.
    public var recipientHash: String?
    /// e.g. `j***@e***.com`.
    public var recipientMasked: String?
    public var outcome: String?
    public var details: [String: String]
    /// The previous event's `hash` (``genesisHash`` for the first event).
    public var prevHash: String
    /// HMAC-SHA256(key, prevHash ‖ canonical encoding of every other field), hex.
    public var hash: String

    public init(
        seq: Int64,
        id: UUID,
        at: Date,
        actor: String,
        sourceIP: String? = nil,
        requestID: String? = nil,
        action: AuditAction,
        deliveryID: UUID? = nil,
        identityID: UUID? = nil,
        recipientHash: String? = nil,
        recipientMasked: String? = nil,
        outcome: String? = nil,
        details: [String: String] = [:],
        prevHash: String,
        hash: String
    ) {
        self.seq = seq
        self.id = id
        self.at = at
        self.actor = actor
        self.sourceIP = sourceIP
        self.requestID = requestID
        self.action = action
        self.deliveryID = deliveryID
        self.identityID = identityID
        self.recipientHash = recipientHash
        self.recipientMasked = recipientMasked
        self.outcome = outcome
        self.details = details
        self.prevHash = prevHash
        self.hash = hash
    }

    /// Microseconds since 1970 of `at`: the exact value that is hashed and stored.
    public var atMicroseconds: Int64 { AuditTime.microseconds(at) }
}
