import Audit

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

    /// The value of this column in the row that stores `record` (accepted under `idempotency`).
    package func value(of record: DeliveryRecord, idempotency: IdempotencyEntry) -> StoreValue? {
        switch self {
        case .id: .uuid(record.id)
        case .status: .text(record.status.rawValue)
        case .failure: record.failure.map { .text($0.rawValue) }
        case .identityID: record.identityID.map(StoreValue.uuid)
        case .recipient: .text(record.recipient)
        case .method: record.method.map { .text($0.rawValue) }
        case .template: record.template.map(StoreValue.text)
        case .locale: record.locale.map(StoreValue.text)
        case .expiresIn: .text(record.expiresIn)
        case .deadline: .micros(record.deadline)
        case .reason: record.reason.map(StoreValue.text)
        case .transientPayload: record.transientPayload.map(StoreValue.text)
        case .messageID: .text(record.messageID)
        case .actor: .text(record.actor)
        case .requestID: record.requestID.map(StoreValue.text)
        case .apiKeyID: .text(idempotency.apiKeyID)
        case .idempotencyKey: .text(idempotency.key)
        case .attempts: .integer(Int64(record.attempts))
        case .nextAttemptAt: record.nextAttemptAt.map(StoreValue.micros)
        case .leaseExpiresAt: record.leaseExpiresAt.map(StoreValue.micros)
        case .lastErrorClass: record.lastErrorClass.map { .text($0.rawValue) }
        case .lastError: record.lastError.map(StoreValue.text)
        case .smtpReply: record.smtpReply.map(StoreValue.text)
        case .createdAt: .micros(record.createdAt)
        case .sentAt: record.sentAt.map(StoreValue.micros)
        case .source: .text(record.source.rawValue)
        case .templateType: record.templateType.map(StoreValue.text)
        case .sealedPayload: record.sealedPayload.map(StoreValue.bytes)
        }
    }
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
