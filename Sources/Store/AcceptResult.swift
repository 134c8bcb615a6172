import Audit
import Foundation

/// The answer of `accept`: queued, replayed, or refused (a refusal writes nothing).
public enum AcceptResult: Sendable, Hashable {
    /// The delivery was queued; `event` is the sealed `email.requested` event.
    case accepted(Delivery, event: AuditEvent)
    /// The same key with the same request: answer what was answered the first time.
    case replay(status: Int, body: Data, deliveryID: UUID)
    /// The same key with another request.
    case keyReused
    /// The same identity and recipient were sent to recently under another key.
    case cooldown(retryAfter: Date)
}

/// The answer stored for an idempotency key, as found before any other work is done.
public struct IdempotentAnswer: Sendable, Hashable {
    /// Tells a replay (same request) from a reuse (another request).
    public var requestHash: String
    public var status: Int
    public var body: Data
    public var deliveryID: UUID

    public init(requestHash: String, status: Int, body: Data, deliveryID: UUID) {
        self.requestHash = requestHash
        self.status = status
        self.body = body
        self.deliveryID = deliveryID
    }
}

extension IdempotentAnswer {
    /// What `accept` answers for a request hashed `requestHash` under this stored key: the stored
    /// answer again for the same request, `keyReused` for another one.
    public func result(forRequestHash requestHash: String) -> AcceptResult {
        guard self.requestHash == requestHash else { return .keyReused }
        return .replay(status: status, body: body, deliveryID: deliveryID)
    }
}
