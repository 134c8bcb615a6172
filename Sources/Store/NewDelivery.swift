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

    /// `delivery` as every store inserts it: `queued`, no attempt or outcome yet, due at once
    /// unless a later first attempt was asked for.
    public var queued: Delivery {
        var queued = delivery.asQueued
        queued.nextAttemptAt = delivery.nextAttemptAt ?? delivery.createdAt
        return queued
    }
}

extension Delivery {
    /// The delivery as it was when it was queued: `queued`, no attempt, no outcome, due at its
    /// creation. What it was made of (recipient, content, Message-ID, times) never changes, so this
    /// is what the first answer showed, whatever happened since: a replay answers its view.
    public var asQueued: Delivery {
        var queued = self
        queued.status = .queued
        queued.failure = nil
        queued.attempts = 0
        queued.nextAttemptAt = createdAt
        queued.leaseExpiresAt = nil
        queued.lastErrorClass = nil
        queued.lastError = nil
        queued.smtpReply = nil
        queued.sentAt = nil
        return queued
    }
}

/// The idempotency claim stored with an accepted delivery: the key, the request it was claimed for,
/// and until when. No answer is stored: a replay answers the delivery as it was queued.
public struct IdempotencyEntry: Sendable, Hashable {
    /// The caller's API key (its id or name: keys are scoped per API key).
    public var apiKeyID: String
    /// The `Idempotency-Key` header.
    public var key: String
    /// A hash of the request (caller + body) that tells a replay from a reuse.
    public var requestHash: String
    /// After this instant the key may be used again.
    public var expiresAt: Date

    public init(apiKeyID: String, key: String, requestHash: String, expiresAt: Date) {
        self.apiKeyID = apiKeyID
        self.key = key
        self.requestHash = requestHash
        self.expiresAt = expiresAt
    }

    /// What a record that stores no answer has in `response_status` (with no bytes in
    /// `response_body`): the columns are 0.1.0's, which stored the answer, and stay `NOT NULL`.
    public static let noStoredStatus = 0
}
