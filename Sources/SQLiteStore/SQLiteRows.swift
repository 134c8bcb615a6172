import Audit
import Foundation
import GRDB
import Store
import UUIDText

/// Decoding of stored rows into the protocol's records (GRDB stays inside this module).
enum SQLiteRows {
    /// `id, status, …`: the columns ``delivery(_:)`` reads, in `DeliveryColumn`'s order, optionally
    /// qualified by a table alias. Every query whose rows it decodes selects exactly these, so it
    /// finds each column by position: GRDB's lookup by name lowercases the name first, which was
    /// about 5 % of the instructions an email costs.
    static func deliveryColumns(qualifiedBy alias: String? = nil) -> String {
        let prefix = alias.map { "\($0)." } ?? ""
        return DeliveryColumn.allCases.map { prefix + $0.rawValue }.joined(separator: ", ")
    }

    /// A row selected with ``deliveryColumns(qualifiedBy:)``.
    static func delivery(_ row: Row) throws -> Delivery {
        typealias C = DeliveryColumn
        let table = "deliveries"
        return try Delivery.decoding(
            id: try uuid(row, C.id, table: table),
            status: try C.status.value(in: row),
            failure: try C.failure.valueOrNil(in: row),
            identityID: try optionalUUID(row, C.identityID, table: table),
            recipient: try C.recipient.value(in: row),
            method: try C.method.valueOrNil(in: row),
            template: try C.template.valueOrNil(in: row),
            locale: try C.locale.valueOrNil(in: row),
            expiresIn: try C.expiresIn.value(in: row),
            deadline: try date(row, C.deadline),
            reason: try C.reason.valueOrNil(in: row),
            transientPayload: try C.transientPayload.valueOrNil(in: row),
            messageID: try C.messageID.value(in: row),
            actor: try C.actor.value(in: row),
            requestID: try C.requestID.valueOrNil(in: row),
            attempts: try C.attempts.value(in: row),
            nextAttemptAt: try optionalDate(row, C.nextAttemptAt),
            leaseExpiresAt: try optionalDate(row, C.leaseExpiresAt),
            lastErrorClass: try C.lastErrorClass.valueOrNil(in: row),
            lastError: try C.lastError.valueOrNil(in: row),
            smtpReply: try C.smtpReply.valueOrNil(in: row),
            createdAt: try date(row, C.createdAt),
            sentAt: try optionalDate(row, C.sentAt),
            source: try C.source.value(in: row),
            templateType: try C.templateType.valueOrNil(in: row),
            sealedPayload: try C.sealedPayload.valueOrNil(in: row)
        )
    }

    /// `record` as it reads back once inserted: its instants at the microsecond the row keeps.
    static func stored(_ record: Delivery) -> Delivery {
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
            finishedAt: try optionalDate(row, "finished_at_us"),
            pausedReason: try row.decode(forColumn: "paused_reason")
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

    static func text(_ id: UUID) -> String { id.lowercasedString }

    static func micros(_ date: Date) -> Int64 { AuditTime.microseconds(date) }

    private static func uuid(_ row: Row, _ column: some RowColumn, table: String) throws -> UUID {
        guard let id = try optionalUUID(row, column, table: table) else {
            throw StoreError.corruptRow(table: table, column: column.name)
        }
        return id
    }

    private static func optionalUUID(_ row: Row, _ column: some RowColumn, table: String) throws -> UUID? {
        guard let text: String = try column.valueOrNil(in: row) else { return nil }
        guard let id = UUID(text: text) else { throw StoreError.corruptRow(table: table, column: column.name) }
        return id
    }

    private static func enumValue<E: RawRepresentable>(_ row: Row, _ column: some RowColumn, table: String) throws -> E
    where E.RawValue == String {
        guard let value: E = try optionalEnum(row, column, table: table) else {
            throw StoreError.corruptRow(table: table, column: column.name)
        }
        return value
    }

    private static func optionalEnum<E: RawRepresentable>(
        _ row: Row,
        _ column: some RowColumn,
        table: String
    ) throws -> E?
    where E.RawValue == String {
        guard let text: String = try column.valueOrNil(in: row) else { return nil }
        guard let value = E(rawValue: text) else { throw StoreError.corruptRow(table: table, column: column.name) }
        return value
    }

    private static func date(_ row: Row, _ column: some RowColumn) throws -> Date {
        AuditTime.date(microseconds: try column.value(in: row))
    }

    private static func optionalDate(_ row: Row, _ column: some RowColumn) throws -> Date? {
        let micros: Int64? = try column.valueOrNil(in: row)
        return micros.map { AuditTime.date(microseconds: $0) }
    }
}

/// How a decoder finds a column in a row: by name (`String`), or by its place in
/// ``SQLiteRows/deliveryColumns(qualifiedBy:)`` (`DeliveryColumn`).
protocol RowColumn {
    /// The column's name, for errors.
    var name: String { get }
    /// The column's value in `row`; NULL is an error.
    func value<Value: DatabaseValueConvertible>(in row: Row) throws -> Value
    /// The column's value in `row`, nil for NULL.
    func valueOrNil<Value: DatabaseValueConvertible>(in row: Row) throws -> Value?
}

extension String: RowColumn {
    var name: String { self }
    func value<Value: DatabaseValueConvertible>(in row: Row) throws -> Value { try row.decode(forColumn: self) }
    func valueOrNil<Value: DatabaseValueConvertible>(in row: Row) throws -> Value? { try row.decode(forColumn: self) }
}

extension DeliveryColumn: RowColumn {
    var name: String { rawValue }
    func value<Value: DatabaseValueConvertible>(in row: Row) throws -> Value {
        try row.decode(Value.self, atIndex: position)
    }
    func valueOrNil<Value: DatabaseValueConvertible>(in row: Row) throws -> Value? {
        try row.decode(Value?.self, atIndex: position)
    }

    /// Its place in `allCases`, the order of ``SQLiteRows/deliveryColumns(qualifiedBy:)``.
    private var position: Int { Self.positions[self]! }  // every case is a key
    private static let positions = Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($1, $0) })
}
