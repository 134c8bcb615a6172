import Audit
import Foundation
import GRDB

/// Decoding of stored rows into the protocol's records (GRDB stays inside this module).
enum SQLiteRows {
    static func delivery(_ row: Row) throws -> DeliveryRecord {
        DeliveryRecord(
            id: try uuid(row, "id", table: "deliveries"),
            status: try enumValue(row, "status", table: "deliveries"),
            failure: try optionalEnum(row, "failure", table: "deliveries"),
            identityID: try uuid(row, "identity_id", table: "deliveries"),
            recipient: try row.decode(forColumn: "recipient"),
            method: try enumValue(row, "method", table: "deliveries"),
            template: try row.decode(forColumn: "template"),
            locale: try row.decode(forColumn: "locale"),
            expiresIn: try row.decode(forColumn: "expires_in"),
            deadline: try date(row, "deadline_us"),
            reason: try row.decode(forColumn: "reason"),
            transientPayload: try row.decode(forColumn: "transient_payload"),
            messageID: try row.decode(forColumn: "message_id"),
            actor: try row.decode(forColumn: "actor"),
            requestID: try row.decode(forColumn: "request_id"),
            attempts: try row.decode(forColumn: "attempts"),
            nextAttemptAt: try optionalDate(row, "next_attempt_at_us"),
            leaseExpiresAt: try optionalDate(row, "lease_expires_at_us"),
            lastErrorClass: try optionalEnum(row, "last_error_class", table: "deliveries"),
            lastError: try row.decode(forColumn: "last_error"),
            smtpReply: try row.decode(forColumn: "smtp_reply"),
            createdAt: try date(row, "created_at_us"),
            sentAt: try optionalDate(row, "sent_at_us")
        )
    }

    static func auditEvent(_ row: Row) throws -> AuditEvent {
        let detailsJSON: String = try row.decode(forColumn: "details")
        guard let details = try? JSONDecoder().decode([String: String].self, from: Data(detailsJSON.utf8)) else {
            throw StoreError.corruptRow(table: "audit_events", column: "details")
        }
        let draft = AuditDraft(
            at: try date(row, "at_us"),
            actor: try row.decode(forColumn: "actor"),
            sourceIP: try row.decode(forColumn: "source_ip"),
            requestID: try row.decode(forColumn: "request_id"),
            action: AuditAction(try row.decode(String.self, forColumn: "action")),
            deliveryID: try optionalUUID(row, "delivery_id", table: "audit_events"),
            identityID: try optionalUUID(row, "identity_id", table: "audit_events"),
            recipientHash: try row.decode(forColumn: "recipient_hash"),
            recipientMasked: try row.decode(forColumn: "recipient_masked"),
            outcome: try row.decode(forColumn: "outcome"),
            details: details
        )
        return AuditEvent(
            seq: try row.decode(forColumn: "seq"),
            id: try uuid(row, "id", table: "audit_events"),
            draft: draft,
            prevHash: try row.decode(forColumn: "prev_hash"),
            hash: try row.decode(forColumn: "hash")
        )
    }

    static func detailsJSON(_ details: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a [String: String] cannot fail.
        return String(decoding: try! encoder.encode(details), as: UTF8.self)
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
