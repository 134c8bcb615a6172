import Audit
import Foundation

/// The answer of `accept`: queued, replayed, or refused (a refusal writes nothing).
public enum AcceptResult: Sendable, Hashable {
    /// The delivery was queued; `event` is the sealed `email.requested` event.
    case accepted(DeliveryRecord, event: AuditEvent)
    /// The same key with the same request: answer what was answered the first time.
    case replay(status: Int, body: Data, deliveryID: UUID)
    /// The same key with another request.
    case keyReused
    /// The same identity and recipient were sent to recently under another key.
    case cooldown(retryAfter: Date)
}
