import Audit
import Foundation

/// The columns of the `deliveries` table, named once for every store: each store's exhaustive
/// `switch` over them writes a row and its decoder reads one, so a new column is a case here, a
/// value in each store's switch and a field in its decoder (the compiler asks for both), plus each
/// store's migration.
package enum DeliveryColumn: String, CaseIterable, Sendable {
    case id
    case status
    case failure
    case identityID = "identity_id"
    case recipient
    case method
    case template
    case locale
    case expiresIn = "expires_in"
    case deadline = "deadline_us"
    case reason
    case transientPayload = "transient_payload"
    case messageID = "message_id"
    case actor
    case requestID = "request_id"
    case apiKeyID = "api_key_id"
    case idempotencyKey = "idempotency_key"
    case attempts
    case nextAttemptAt = "next_attempt_at_us"
    case leaseExpiresAt = "lease_expires_at_us"
    case lastErrorClass = "last_error_class"
    case lastError = "last_error"
    case smtpReply = "smtp_reply"
    case createdAt = "created_at_us"
    case sentAt = "sent_at_us"
    case source
    case templateType = "template_type"
    case sealedPayload = "sealed_payload"

    /// `(id, status, …)`: every column, in declaration order, for an INSERT.
    package static let list = "(" + allCases.map(\.rawValue).joined(separator: ", ") + ")"

    /// The value of this column in the row that stores `delivery` (accepted under `idempotency`).
    package func value(of delivery: Delivery, idempotency: IdempotencyEntry) -> StoreValue? {
        switch self {
        case .id: .uuid(delivery.id)
        case .status: .text(delivery.status.rawValue)
        case .failure: delivery.failure.map { .text($0.rawValue) }
        case .identityID: delivery.identityID.map(StoreValue.uuid)
        case .recipient: .text(delivery.recipient.description)
        case .method: delivery.method.map { .text($0.rawValue) }
        case .template: delivery.template.map(StoreValue.text)
        case .locale: delivery.locale.map(StoreValue.text)
        case .expiresIn: .text(delivery.expiresIn)
        case .deadline: .micros(delivery.deadline)
        case .reason: delivery.reason.map(StoreValue.text)
        case .transientPayload: Self.transientPayload(of: delivery).map(StoreValue.text)
        case .messageID: .text(delivery.messageID.value)
        case .actor: .text(delivery.actor)
        case .requestID: delivery.requestID.map(StoreValue.text)
        case .apiKeyID: .text(idempotency.apiKeyID)
        case .idempotencyKey: .text(idempotency.key)
        case .attempts: .integer(Int64(delivery.attempts))
        case .nextAttemptAt: delivery.nextAttemptAt.map(StoreValue.micros)
        case .leaseExpiresAt: delivery.leaseExpiresAt.map(StoreValue.micros)
        case .lastErrorClass: delivery.lastErrorClass.map { .text($0.rawValue) }
        case .lastError: delivery.lastError.map(StoreValue.text)
        case .smtpReply: delivery.smtpReply.map(StoreValue.text)
        case .createdAt: .micros(delivery.createdAt)
        case .sentAt: delivery.sentAt.map(StoreValue.micros)
        case .source: .text(delivery.source.rawValue)
        case .templateType: delivery.templateType.map { .text($0.rawValue) }
        case .sealedPayload:
            if case .courier(let message) = delivery.content { message.sealed.map(StoreValue.bytes) } else { nil }
        }
    }

    /// A recovery order's transient payload as JSON text (sorted keys).
    private static func transientPayload(of delivery: Delivery) -> String? {
        guard case .recovery(let order) = delivery.content, let payload = order.transientPayload else { return nil }
        return (try? payloadEncoder.encode(payload)).map { String(decoding: $0, as: UTF8.self) }
    }

    private static let payloadEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}

/// The columns of the `audit_events` table, named once for every store, as ``DeliveryColumn`` is for
/// `deliveries`.
package enum AuditEventColumn: String, CaseIterable, Sendable {
    case seq
    case id
    case at = "at_us"
    case actor
    case sourceIP = "source_ip"
    case requestID = "request_id"
    case action
    case deliveryID = "delivery_id"
    case identityID = "identity_id"
    case recipientHash = "recipient_hash"
    case recipientMasked = "recipient_masked"
    case outcome
    case details
    case prevHash = "prev_hash"
    case hash
    /// Added by migration `v5_audit_key_id`; NULL in the rows sealed before it.
    case keyID = "key_id"

    /// `(seq, id, …)`: every column, in declaration order, for an INSERT.
    package static let list = "(" + allCases.map(\.rawValue).joined(separator: ", ") + ")"

    /// The value of this column in the row that stores `event`.
    package func value(of event: AuditEvent) -> StoreValue? {
        switch self {
        case .seq: .integer(event.seq)
        case .id: .uuid(event.id)
        case .at: .integer(event.atMicroseconds)
        case .actor: .text(event.actor)
        case .sourceIP: event.sourceIP.map(StoreValue.text)
        case .requestID: event.requestID.map(StoreValue.text)
        case .action: .text(event.action.rawValue)
        case .deliveryID: event.deliveryID.map(StoreValue.uuid)
        case .identityID: event.identityID.map(StoreValue.uuid)
        case .recipientHash: event.recipientHash.map(StoreValue.text)
        case .recipientMasked: event.recipientMasked.map(StoreValue.text)
        case .outcome: event.outcome.map(StoreValue.text)
        case .details: .text(AuditDetailsColumn.text(event.details))
        case .prevHash: .text(event.prevHash)
        case .hash: .text(event.hash)
        case .keyID: event.keyID.map(StoreValue.text)
        }
    }
}
