import Audit
import Foundation
import GRDB
import Store

/// Decoding of stored rows into the protocol's records (GRDB stays inside this module).
enum SQLiteRows {
    static func delivery(_ row: Row) throws -> DeliveryRecord {
        typealias C = DeliveryColumn
        let table = "deliveries"
        return DeliveryRecord(
            id: try uuid(row, C.id.rawValue, table: table),
            status: try enumValue(row, C.status.rawValue, table: table),
            failure: try optionalEnum(row, C.failure.rawValue, table: table),
            identityID: try optionalUUID(row, C.identityID.rawValue, table: table),
            recipient: try row.decode(forColumn: C.recipient.rawValue),
            method: try optionalEnum(row, C.method.rawValue, table: table),
            template: try row.decode(forColumn: C.template.rawValue),
            source: try enumValue(row, C.source.rawValue, table: table),
            templateType: try row.decode(forColumn: C.templateType.rawValue),
            sealedPayload: try row.decode(forColumn: C.sealedPayload.rawValue),
            locale: try row.decode(forColumn: C.locale.rawValue),
            expiresIn: try row.decode(forColumn: C.expiresIn.rawValue),
            deadline: try date(row, C.deadline.rawValue),
            reason: try row.decode(forColumn: C.reason.rawValue),
            transientPayload: try row.decode(forColumn: C.transientPayload.rawValue),
            messageID: try row.decode(forColumn: C.messageID.rawValue),
            actor: try row.decode(forColumn: C.actor.rawValue),
            requestID: try row.decode(forColumn: C.requestID.rawValue),
            attempts: try row.decode(forColumn: C.attempts.rawValue),
            nextAttemptAt: try optionalDate(row, C.nextAttemptAt.rawValue),
            leaseExpiresAt: try optionalDate(row, C.leaseExpiresAt.rawValue),
            lastErrorClass: try optionalEnum(row, C.lastErrorClass.rawValue, table: table),
            lastError: try row.decode(forColumn: C.lastError.rawValue),
            smtpReply: try row.decode(forColumn: C.smtpReply.rawValue),
            createdAt: try date(row, C.createdAt.rawValue),
            sentAt: try optionalDate(row, C.sentAt.rawValue)
        )
    }

    /// `record` as it reads back once inserted: its instants at the microsecond the row keeps.
    static func stored(_ record: DeliveryRecord) -> DeliveryRecord {
        var stored = record
        stored.deadline = AuditTime.truncated(record.deadline)
        stored.nextAttemptAt = record.nextAttemptAt.map(AuditTime.truncated)
        stored.leaseExpiresAt = record.leaseExpiresAt.map(AuditTime.truncated)
        stored.createdAt = AuditTime.truncated(record.createdAt)
        stored.sentAt = record.sentAt.map(AuditTime.truncated)
        return stored
    }

    /// `?, ?, …`: `count` placeholders, for an INSERT of that many columns.
    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// `value` as SQLite keeps it (a UUID as lower-case text); nil is NULL.
    static func bind(_ value: StoreValue?) -> (any DatabaseValueConvertible)? {
        switch value {
        case .text(let text): text
        case .integer(let number): number
        case .uuid(let id): self.text(id)
        case .bytes(let data): data
        case nil: nil
        }
    }

    static func auditEvent(_ row: Row) throws -> AuditEvent {
        typealias C = AuditEventColumn
        let table = "audit_events"
        let draft = AuditDraft(
            at: try date(row, C.at.rawValue),
            actor: try row.decode(forColumn: C.actor.rawValue),
            sourceIP: try row.decode(forColumn: C.sourceIP.rawValue),
            requestID: try row.decode(forColumn: C.requestID.rawValue),
            action: AuditAction(try row.decode(String.self, forColumn: C.action.rawValue)),
            deliveryID: try optionalUUID(row, C.deliveryID.rawValue, table: table),
            identityID: try optionalUUID(row, C.identityID.rawValue, table: table),
            recipientHash: try row.decode(forColumn: C.recipientHash.rawValue),
            recipientMasked: try row.decode(forColumn: C.recipientMasked.rawValue),
            outcome: try row.decode(forColumn: C.outcome.rawValue),
            details: try AuditDetailsColumn.details(try row.decode(forColumn: C.details.rawValue))
        )
        return AuditEvent(
            seq: try row.decode(forColumn: C.seq.rawValue),
            id: try uuid(row, C.id.rawValue, table: table),
            draft: draft,
            prevHash: try row.decode(forColumn: C.prevHash.rawValue),
            hash: try row.decode(forColumn: C.hash.rawValue),
            keyID: try row.decode(forColumn: C.keyID.rawValue)
        )
    }

    static func batch(_ row: Row) throws -> BatchRecord {
        let table = "recovery_batches"
        return BatchRecord(
            id: try uuid(row, "id", table: table),
            apiKeyID: try row.decode(forColumn: "api_key_id"),
            idempotencyKey: try row.decode(forColumn: "idempotency_key"),
            requestHash: try row.decode(forColumn: "request_hash"),
            anyRecipient: try row.decode(forColumn: "any_recipient"),
            sourceIP: try row.decode(forColumn: "source_ip"),
            requestID: try row.decode(forColumn: "request_id"),
            common: try row.decode(forColumn: "common"),
            rate: try row.decode(forColumn: "rate"),
            status: try enumValue(row, "status", table: table),
            total: try row.decode(forColumn: "total"),
            ingestComplete: try row.decode(forColumn: "ingest_complete"),
            createdAt: try date(row, "created_at_us"),
            finishedAt: try optionalDate(row, "finished_at_us")
        )
    }

    static func batchItem(_ row: Row) throws -> BatchItemRecord {
        let table = "batch_items"
        return BatchItemRecord(
            position: try row.decode(forColumn: "position"),
            item: try row.decode(forColumn: "item"),
            outcome: try enumValue(row, "outcome", table: table),
            reason: try row.decode(forColumn: "reason"),
            identityID: try optionalUUID(row, "identity_id", table: table),
            recipientMasked: try row.decode(forColumn: "recipient_masked"),
            deliveryID: try optionalUUID(row, "delivery_id", table: table)
        )
    }

    static func text(_ id: UUID) -> String { id.uuidString.lowercased() }

    static func micros(_ date: Date) -> Int64 { AuditTime.microseconds(date) }

    private static func uuid(_ row: Row, _ column: String, table: String) throws -> UUID {
        guard let id = try optionalUUID(row, column, table: table) else {
            throw StoreError.corruptRow(table: table, column: column)
        }
        return id
    }

    private static func optionalUUID(_ row: Row, _ column: String, table: String) throws -> UUID? {
        guard let text: String = try row.decode(forColumn: column) else { return nil }
        guard let id = UUID(uuidString: text) else { throw StoreError.corruptRow(table: table, column: column) }
        return id
    }

    private static func enumValue<E: RawRepresentable>(_ row: Row, _ column: String, table: String) throws -> E
    where E.RawValue == String {
        guard let value: E = try optionalEnum(row, column, table: table) else {
            throw StoreError.corruptRow(table: table, column: column)
        }
        return value
    }

    private static func optionalEnum<E: RawRepresentable>(_ row: Row, _ column: String, table: String) throws -> E?
    where E.RawValue == String {
        guard let text: String = try row.decode(forColumn: column) else { return nil }
        guard let value = E(rawValue: text) else { throw StoreError.corruptRow(table: table, column: column) }
        return value
    }

    private static func date(_ row: Row, _ column: String) throws -> Date {
        AuditTime.date(microseconds: try row.decode(forColumn: column))
    }

    private static func optionalDate(_ row: Row, _ column: String) throws -> Date? {
        let micros: Int64? = try row.decode(forColumn: column)
        return micros.map { AuditTime.date(microseconds: $0) }
    }
}
