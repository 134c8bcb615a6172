import Foundation

/// The caller's part of an audit event: everything except the chain fields (`seq`, `id`, `prevHash`, `hash`).
public struct AuditDraft: Sendable, Hashable {
    public var at: Date
    public var actor: String
    public var sourceIP: String?
    public var requestID: String?
    public var action: AuditAction
    public var deliveryID: UUID?
    public var identityID: UUID?
    public var recipientHash: String?
    public var recipientMasked: String?
    public var outcome: String?
    /// Flat, secret-free details (e.g. `reason`, `error_class`, `smtp_reply`).
    public var details: [String: String]

    public init(
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
        details: [String: String] = [:]
    ) {
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
    }
}
