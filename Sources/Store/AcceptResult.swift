import Audit
import Foundation

/// The answer of `accept`: queued, replayed, or refused (a refusal writes nothing).
public enum AcceptResult: Sendable, Hashable {
    /// The delivery was queued; `event` is the sealed `email.requested` event.
    case accepted(Delivery, event: AuditEvent)
    /// The same key with the same request: the delivery the first request queued (as it is now),
    /// and the bytes of its answer when a version that stored them claimed the key
    /// (``IdempotentAnswer/storedAnswer``).
    case replay(Delivery, storedAnswer: Data?)
    /// The same key with another request.
    case keyReused
    /// The same identity and recipient were sent to recently under another key.
    case cooldown(retryAfter: Date)
}

/// What is stored for an idempotency key, as found before any other work is done: which delivery
/// the key queued (read with it, as it is now), for which request.
public struct IdempotentAnswer: Sendable, Hashable {
    /// Tells a replay (same request) from a reuse (another request).
    public var requestHash: String
    public var delivery: Delivery
    /// The bytes of the first answer, for a key claimed by 0.1.0, which stored them (always the
    /// delivery's view with 202): a replay answers them as they are. `nil` for a key claimed since,
    /// which stores no answer: the answer is the delivery's view as it was queued, rendered again
    /// (`Delivery.asQueued`). The columns stay; such a record has status 0 and no bytes in them.
    public var storedAnswer: Data?

    public init(requestHash: String, delivery: Delivery, storedAnswer: Data? = nil) {
        self.requestHash = requestHash
        self.delivery = delivery
        self.storedAnswer = storedAnswer
    }

    /// The record read from the columns `response_status` and `response_body` (status 0 is a
    /// record that stores no answer), with the delivery it refers to.
    public init(requestHash: String, delivery: Delivery, responseStatus: Int, responseBody: Data) {
        self.init(
            requestHash: requestHash,
            delivery: delivery,
            storedAnswer: responseStatus == IdempotencyEntry.noStoredStatus ? nil : responseBody
        )
    }

    /// The id of the delivery the key queued.
    public var deliveryID: UUID { delivery.id }
}

extension IdempotentAnswer {
    /// What `accept` answers for a request hashed `requestHash` under this stored key: a replay of
    /// the same delivery for the same request, `keyReused` for another one.
    public func result(forRequestHash requestHash: String) -> AcceptResult {
        guard self.requestHash == requestHash else { return .keyReused }
        return .replay(delivery, storedAnswer: storedAnswer)
    }
}
