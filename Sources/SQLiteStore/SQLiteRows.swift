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
        DeliveryColumn.selection(qualifiedBy: alias)
    }

    /// `seq, id, …`: the columns ``auditEvent(_:)`` reads, in `AuditEventColumn`'s order. Every
    /// query whose rows it decodes selects exactly these (not `*`), for the same reason.
    static let auditEventColumns = AuditEventColumn.selection(qualifiedBy: nil)

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

    /// A row selected with ``auditEventColumns``.
    static func auditEvent(_ row: Row) throws -> AuditEvent {
        typealias C = AuditEventColumn
        let table = "audit_events"
        let draft = AuditDraft(
            at: try date(row, C.at),
            actor: try C.actor.value(in: row),
            sourceIP: try C.sourceIP.valueOrNil(in: row),
            requestID: try C.requestID.valueOrNil(in: row),
            action: AuditAction(try C.action.value(in: row) as String),
            deliveryID: try optionalUUID(row, C.deliveryID, table: table),
            identityID: try optionalUUID(row, C.identityID, table: table),
            recipientHash: try C.recipientHash.valueOrNil(in: row),
            recipientMasked: try C.recipientMasked.valueOrNil(in: row),
            outcome: try C.outcome.valueOrNil(in: row),
            details: try AuditDetailsColumn.details(try C.details.value(in: row))
        )
        return AuditEvent(
            seq: try C.seq.value(in: row),
            id: try uuid(row, C.id, table: table),
            draft: draft,
            prevHash: try C.prevHash.value(in: row),
            hash: try C.hash.value(in: row),
            keyID: try C.keyID.valueOrNil(in: row)
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

/// How a decoder finds a column in a row: by name (`String`), or by its place in the selection of
/// its table's column enum (``SelectedInOrder``).
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

/// A table's column enum whose rows are selected with ``selection(qualifiedBy:)``: every column in
/// `allCases` order, so a decoder finds each one by its position.
protocol SelectedInOrder: RowColumn, CaseIterable, Hashable, RawRepresentable<String> {
    /// Each case's place in `allCases` (made once: `allCases` builds an array per call).
    static var positions: [Self: Int] { get }
}

extension SelectedInOrder {
    var name: String { rawValue }

    func value<Value: DatabaseValueConvertible>(in row: Row) throws -> Value {
        try row.decode(Value.self, atIndex: position)
    }

    func valueOrNil<Value: DatabaseValueConvertible>(in row: Row) throws -> Value? {
        try row.decode(Value?.self, atIndex: position)
    }

    /// `a, b, …`: every column in `allCases` order, optionally qualified by a table alias.
    static func selection(qualifiedBy alias: String?) -> String {
        let prefix = alias.map { "\($0)." } ?? ""
        return allCases.map { prefix + $0.rawValue }.joined(separator: ", ")
    }

    /// The positions of `allCases`, for ``positions``.
    static func positionsInOrder() -> [Self: Int] {
        Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($1, $0) })
    }

    private var position: Int { Self.positions[self]! }  // every case is a key
}

extension DeliveryColumn: SelectedInOrder {
    static let positions = positionsInOrder()
}

extension AuditEventColumn: SelectedInOrder {
    static let positions = positionsInOrder()
}
