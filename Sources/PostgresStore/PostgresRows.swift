import Audit
import Foundation
import NIOCore
import PostgresNIO
import Store

/// Decoding of stored rows into the protocol's records; a value that cannot be read back is a
/// `corruptRow` naming its table and column.
enum PostgresRows {
    static func delivery(_ row: PostgresRow) throws -> DeliveryRecord {
        typealias C = DeliveryColumn
        let cells = Cells(row: row.makeRandomAccess(), table: "deliveries")
        return DeliveryRecord(
            id: try cells[C.id.rawValue],
            status: try cells.enumValue(C.status.rawValue),
            failure: try cells.optionalEnum(C.failure.rawValue),
            identityID: try cells[C.identityID.rawValue],
            recipient: try cells[C.recipient.rawValue],
            method: try cells.optionalEnum(C.method.rawValue),
            template: try cells[C.template.rawValue],
            source: try cells.enumValue(C.source.rawValue),
            templateType: try cells[C.templateType.rawValue],
            sealedPayload: try cells[C.sealedPayload.rawValue],
            locale: try cells[C.locale.rawValue],
            expiresIn: try cells[C.expiresIn.rawValue],
            deadline: try cells.date(C.deadline.rawValue),
            reason: try cells[C.reason.rawValue],
            transientPayload: try cells[C.transientPayload.rawValue],
            messageID: try cells[C.messageID.rawValue],
            actor: try cells[C.actor.rawValue],
            requestID: try cells[C.requestID.rawValue],
            attempts: try cells[C.attempts.rawValue],
            nextAttemptAt: try cells.optionalDate(C.nextAttemptAt.rawValue),
            leaseExpiresAt: try cells.optionalDate(C.leaseExpiresAt.rawValue),
            lastErrorClass: try cells.optionalEnum(C.lastErrorClass.rawValue),
            lastError: try cells[C.lastError.rawValue],
            smtpReply: try cells[C.smtpReply.rawValue],
            createdAt: try cells.date(C.createdAt.rawValue),
            sentAt: try cells.optionalDate(C.sentAt.rawValue)
        )
    }

    static func auditEvent(_ row: PostgresRow) throws -> AuditEvent {
        try auditEvent(cells: Cells(row: row.makeRandomAccess(), table: "audit_events"))
    }

    /// A row of `audit_intake`: the columns of `audit_events` and the arrival position `n`. A row
    /// whose columns cannot be read back (written by something else than a gateway) is answered as an
    /// event at seq -1, which no held key verifies, so that the sequencer passes over it and reports
    /// it instead of failing every round.
    static func unsequencedAuditEvent(_ row: PostgresRow) throws -> UnsequencedAuditEvent {
        let cells = Cells(row: row.makeRandomAccess(), table: "audit_intake")
        let position: Int64 = try cells["n"]
        guard let event = try? auditEvent(cells: cells) else {
            let draft = AuditDraft(at: Date(timeIntervalSince1970: 0), actor: "", action: AuditAction("unreadable"))
            return UnsequencedAuditEvent(
                position: position,
                event: AuditEvent(seq: -1, id: UUID(), draft: draft, prevHash: "", hash: "")
            )
        }
        return UnsequencedAuditEvent(position: position, event: event)
    }

    private static func auditEvent(cells: Cells) throws -> AuditEvent {
        typealias C = AuditEventColumn
        let action: String = try cells[C.action.rawValue]
        let draft = AuditDraft(
            at: try cells.date(C.at.rawValue),
            actor: try cells[C.actor.rawValue],
            sourceIP: try cells[C.sourceIP.rawValue],
            requestID: try cells[C.requestID.rawValue],
            action: AuditAction(action),
            deliveryID: try cells[C.deliveryID.rawValue],
            identityID: try cells[C.identityID.rawValue],
            recipientHash: try cells[C.recipientHash.rawValue],
            recipientMasked: try cells[C.recipientMasked.rawValue],
            outcome: try cells[C.outcome.rawValue],
            details: try AuditDetailsColumn.details(try cells[C.details.rawValue])
        )
        return AuditEvent(
            seq: try cells[C.seq.rawValue],
            id: try cells[C.id.rawValue],
            draft: draft,
            prevHash: try cells[C.prevHash.rawValue],
            hash: try cells[C.hash.rawValue],
            keyID: try cells[C.keyID.rawValue]
        )
    }

    static func batch(_ row: PostgresRow) throws -> BatchRecord {
        let cells = Cells(row: row.makeRandomAccess(), table: "recovery_batches")
        let rate: Int64 = try cells["rate"]
        let total: Int64 = try cells["total"]
        return BatchRecord(
            id: try cells["id"],
            apiKeyID: try cells["api_key_id"],
            idempotencyKey: try cells["idempotency_key"],
            requestHash: try cells["request_hash"],
            anyRecipient: try cells["any_recipient"],
            sourceIP: try cells["source_ip"],
            requestID: try cells["request_id"],
            common: try cells["common"],
            rate: Int(rate),
            status: try cells.enumValue("status"),
            total: Int(total),
            ingestComplete: try cells["ingest_complete"],
            createdAt: try cells.date("created_at_us"),
            finishedAt: try cells.optionalDate("finished_at_us"),
            pausedReason: try cells["paused_reason"]
        )
    }

    static func batchItem(_ row: PostgresRow) throws -> BatchItemRecord {
        let cells = Cells(row: row.makeRandomAccess(), table: "batch_items")
        let position: Int64 = try cells["position"]
        return BatchItemRecord(
            position: Int(position),
            item: try cells["item"],
            outcome: try cells.enumValue("outcome"),
            reason: try cells["reason"],
            identityID: try cells["identity_id"],
            recipientMasked: try cells["recipient_masked"],
            deliveryID: try cells["delivery_id"]
        )
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

extension PostgresBindings {
    /// Appends `value` as PostgreSQL keeps it (a UUID as `uuid`); nil is NULL.
    mutating func append(_ value: StoreValue?) {
        switch value {
        case .text(let text): append(text)
        case .integer(let number): append(number)
        case .uuid(let id): append(id)
        case .bytes(let data): append(ByteBuffer(bytes: data))
        case nil: appendNull()
        }
    }

    /// Appends `values` and answers their placeholders as one row of a VALUES list, `($n, …)`.
    mutating func row(_ values: [StoreValue?]) -> String {
        let first = count + 1
        for value in values { append(value) }
        return "(" + (first...count).map { "$\($0)" }.joined(separator: ", ") + ")"
    }
}
