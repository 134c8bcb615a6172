import Audit
import Foundation
import PostgresNIO
import Store

/// Decoding of stored rows into the protocol's records; a value that cannot be read back is a
/// `corruptRow` naming its table and column.
enum PostgresRows {
    static func delivery(_ row: PostgresRow) throws -> DeliveryRecord {
        let cells = Cells(row: row.makeRandomAccess(), table: "deliveries")
        return DeliveryRecord(
            id: try cells["id"],
            status: try cells.enumValue("status"),
            failure: try cells.optionalEnum("failure"),
            identityID: try cells["identity_id"],
            recipient: try cells["recipient"],
            method: try cells.enumValue("method"),
            template: try cells["template"],
            locale: try cells["locale"],
            expiresIn: try cells["expires_in"],
            deadline: try cells.date("deadline_us"),
            reason: try cells["reason"],
            transientPayload: try cells["transient_payload"],
            messageID: try cells["message_id"],
            actor: try cells["actor"],
            requestID: try cells["request_id"],
            attempts: try cells["attempts"],
            nextAttemptAt: try cells.optionalDate("next_attempt_at_us"),
            leaseExpiresAt: try cells.optionalDate("lease_expires_at_us"),
            lastErrorClass: try cells.optionalEnum("last_error_class"),
            lastError: try cells["last_error"],
            smtpReply: try cells["smtp_reply"],
            createdAt: try cells.date("created_at_us"),
            sentAt: try cells.optionalDate("sent_at_us")
        )
    }

    static func auditEvent(_ row: PostgresRow) throws -> AuditEvent {
        let cells = Cells(row: row.makeRandomAccess(), table: "audit_events")
        let detailsJSON: String = try cells["details"]
        guard let details = try? JSONDecoder().decode([String: String].self, from: Data(detailsJSON.utf8)) else {
            throw StoreError.corruptRow(table: "audit_events", column: "details")
        }
        let action: String = try cells["action"]
        let draft = AuditDraft(
            at: try cells.date("at_us"),
            actor: try cells["actor"],
            sourceIP: try cells["source_ip"],
            requestID: try cells["request_id"],
            action: AuditAction(action),
            deliveryID: try cells["delivery_id"],
            identityID: try cells["identity_id"],
            recipientHash: try cells["recipient_hash"],
            recipientMasked: try cells["recipient_masked"],
            outcome: try cells["outcome"],
            details: details
        )
        return AuditEvent(
            seq: try cells["seq"],
            id: try cells["id"],
            draft: draft,
            prevHash: try cells["prev_hash"],
            hash: try cells["hash"]
        )
    }

    /// The same canonical JSON as the SQLite store (sorted keys).
    static func detailsJSON(_ details: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a [String: String] cannot fail.
        return String(decoding: try! encoder.encode(details), as: UTF8.self)
    }

    static func micros(_ date: Date) -> Int64 { AuditTime.microseconds(date) }

    /// The cells of one row of `table`, decoded by column name.
    struct Cells {
        let row: PostgresRandomAccessRow
        let table: String

        subscript<T: PostgresDecodable>(_ column: String) -> T {
            get throws {
                do {
                    return try row[column].decode(T.self)
                } catch {
                    throw StoreError.corruptRow(table: table, column: column)
                }
            }
        }

        func date(_ column: String) throws -> Date {
            AuditTime.date(microseconds: try self[column])
        }

        func optionalDate(_ column: String) throws -> Date? {
            let micros: Int64? = try self[column]
            return micros.map { AuditTime.date(microseconds: $0) }
        }

        func enumValue<E: RawRepresentable>(_ column: String) throws -> E where E.RawValue == String {
            guard let value: E = try optionalEnum(column) else {
                throw StoreError.corruptRow(table: table, column: column)
            }
            return value
        }

        func optionalEnum<E: RawRepresentable>(_ column: String) throws -> E? where E.RawValue == String {
            guard let text: String = try self[column] else { return nil }
            guard let value = E(rawValue: text) else { throw StoreError.corruptRow(table: table, column: column) }
            return value
        }
    }
}
