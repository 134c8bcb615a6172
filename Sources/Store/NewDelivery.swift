import Audit
import Foundation

/// Everything `accept` needs: the delivery to queue, its idempotency record, the cooldown rule
/// and the `email.requested` audit draft.
public struct NewDelivery: Sendable, Hashable {
    /// The delivery to insert; its status is forced to `queued` and attempts to 0.
    public var delivery: Delivery
    public var idempotency: IdempotencyEntry
    /// A delivery for the same identity and recipient, created within this many seconds before
    /// `delivery.createdAt` under another idempotency key, refuses this one. 0 turns it off, and so
    /// does a delivery without an identity.
    public var cooldown: TimeInterval
    /// Sealed by the store with the next seq; its `deliveryID` is set to the delivery's id.
    public var audit: AuditDraft

    public init(delivery: Delivery, idempotency: IdempotencyEntry, cooldown: TimeInterval, audit: AuditDraft) {
        self.delivery = delivery
        self.idempotency = idempotency
        self.cooldown = cooldown
        self.audit = audit
    }

    /// `delivery` as every store inserts it: `queued`, no attempt yet, due at once unless a later
    /// first attempt was asked for.
    public var queued: Delivery {
        var queued = delivery
        queued.status = .queued
        queued.failure = nil
        queued.attempts = 0
        queued.leaseExpiresAt = nil
        queued.sentAt = nil
        queued.nextAttemptAt = queued.nextAttemptAt ?? queued.createdAt
        return queued
    }
}

/// The idempotency record stored with an accepted delivery: the answer to replay for the same key.
public struct IdempotencyEntry: Sendable, Hashable {
    /// The caller's API key (its id or name: keys are scoped per API key).
    public var apiKeyID: String
    /// The `Idempotency-Key` header.
    public var key: String
    /// A hash of the request (caller + body) that tells a replay from a reuse.
    public var requestHash: String
    public var responseStatus: Int
    public var responseBody: Data
    /// After this instant the key may be used again.
    public var expiresAt: Date

    public init(
        apiKeyID: String,
        key: String,
        requestHash: String,
        responseStatus: Int,
        responseBody: Data,
        expiresAt: Date
    ) {
        self.apiKeyID = apiKeyID
        self.key = key
        self.requestHash = requestHash
        self.responseStatus = responseStatus
        self.responseBody = responseBody
        self.expiresAt = expiresAt
    }
}
