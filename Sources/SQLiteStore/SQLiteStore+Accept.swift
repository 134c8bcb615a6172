import Audit
import Foundation
import GRDB
import Store
import UUIDText

extension SQLiteStore {
    public func accept(_ new: NewDelivery) async throws(StoreError) -> AcceptResult {
        let chain = chain
        return try await groupWrite(.accept) { db in try Self.accept(new, chain: chain, db: db) }
    }

    /// Read on the caller's thread, not on a reader's queue: this runs before every accept, and
    /// the hop there and back (two thread switches, and a `BEGIN`/`COMMIT` around the read) cost more
    /// than the one indexed `SELECT`. One statement needs no transaction to see one snapshot (a key
    /// found takes a second, for its delivery, which is never deleted), and a WAL reader never waits
    /// for the writer; the thread waits only when every reader connection is busy, for as long as
    /// the shortest of their reads.
    public func idempotentAnswer(apiKeyID: String, key: String, now: Date) async throws(StoreError) -> IdempotentAnswer?
    {
        try readHere { db in
            try Self.idempotentAnswer(apiKeyID: apiKeyID, key: key, now: SQLiteRows.micros(now), db: db)
        }
    }

    /// Runs the one statement of `body` on a reader connection, on this thread (not async, so that
    /// GRDB's synchronous read is the one called).
    private func readHere<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.unsafeRead(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    private static func idempotentAnswer(
        apiKeyID: String,
        key: String,
        now: Int64,
        db: Database
    ) throws -> IdempotentAnswer? {
        // By position: GRDB looks a column up by name with a lower-cased copy of it, per value.
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT request_hash, response_status, response_body, delivery_id FROM idempotency_records
                        WHERE api_key_id = ? AND key = ? AND expires_at_us > ?
                        """
                ),
                arguments: [apiKeyID, key, now]
            )
        else { return nil }
        let deliveryText: String = try row.decode(atIndex: 3)
        // Found: its delivery too, which a replay answers (a second statement, on a replay only).
        guard let deliveryID = UUID(text: deliveryText), let delivery = try fetchDelivery(deliveryID, db: db)
        else {
            throw StoreError.corruptRow(table: "idempotency_records", column: "delivery_id")
        }
        return IdempotentAnswer(
            requestHash: try row.decode(atIndex: 0),
            delivery: delivery,
            responseStatus: try row.decode(atIndex: 1),
            responseBody: try row.decode(atIndex: 2)
        )
    }

    private static func accept(_ new: NewDelivery, chain: AuditChain, db: Database) throws -> AcceptResult {
        let delivery = new.delivery
        let idempotency = new.idempotency
        let now = SQLiteRows.micros(delivery.createdAt)

        // (1) An unexpired record for this key answers for it.
        if let earlier = try idempotentAnswer(apiKeyID: idempotency.apiKeyID, key: idempotency.key, now: now, db: db) {
            return earlier.result(forRequestHash: idempotency.requestHash)
        }

        // (2) Cooldown: the same identity and recipient, recently, under another key.
        if new.cooldown > 0, let identityID = delivery.identityID {
            let since = SQLiteRows.micros(delivery.createdAt.addingTimeInterval(-new.cooldown))
            let latest = try Int64.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT MAX(created_at_us) FROM deliveries
                        WHERE identity_id = ? AND recipient = ? COLLATE NOCASE AND created_at_us > ?
                        AND NOT (api_key_id = ? AND idempotency_key = ?)
                        """
                ),
                arguments: [
                    SQLiteRows.text(identityID), delivery.recipient.description, since, idempotency.apiKeyID,
                    idempotency.key,
                ]
            )
            if let latest {
                return .cooldown(retryAfter: AuditTime.date(microseconds: latest).addingTimeInterval(new.cooldown))
            }
        }

        // (3) The delivery, (4) its idempotency record (replacing an expired one; no answer stored),
        // (5) the audit event.
        let queued = new.queued
        try insert(queued, idempotency: idempotency, db: db)
        try db.cachedStatement(sql: "DELETE FROM idempotency_records WHERE api_key_id = ? AND key = ?")
            .execute(arguments: [idempotency.apiKeyID, idempotency.key])
        try db.cachedStatement(
            sql: """
                INSERT INTO idempotency_records (api_key_id, key, request_hash, response_status, response_body,
                    delivery_id, expires_at_us)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                idempotency.apiKeyID, idempotency.key, idempotency.requestHash, IdempotencyEntry.noStoredStatus,
                Data(), SQLiteRows.text(queued.id), SQLiteRows.micros(idempotency.expiresAt),
            ]
        )
        var draft = new.audit
        draft.deliveryID = queued.id
        let event = try SQLiteAuditLog.append(draft, chain: chain, db: db)
        // The row just inserted, as a read would decode it, without reading it back.
        return .accepted(SQLiteRows.stored(queued), event: event)
    }

    private static func insert(_ record: Delivery, idempotency: IdempotencyEntry, db: Database) throws {
        // Typed: `execute(arguments:)` takes an optional, which would pick GRDB's failable `[Any]` initializer.
        let arguments: StatementArguments = StatementArguments(
            DeliveryColumn.allCases.map { SQLiteRows.bind($0.value(of: record, idempotency: idempotency)) }
        )
        try db.cachedStatement(sql: insertDelivery).execute(arguments: arguments)
    }

    /// `INSERT INTO deliveries (…) VALUES (?, …)`, built once: the statement cache is keyed by this text.
    private static let insertDelivery =
        "INSERT INTO deliveries \(DeliveryColumn.list) VALUES (\(SQLiteRows.placeholders(DeliveryColumn.allCases.count)))"

    /// `SELECT id, status, … FROM deliveries WHERE id = ?`, built once: the statement cache is keyed by this text.
    private static let selectDelivery = "SELECT \(SQLiteRows.deliveryColumns()) FROM deliveries WHERE id = ?"

    /// A cached statement: preparing a `SELECT` calls GRDB's authorizer once per column, and
    /// this runs twice per email (the check and read-back of an outcome).
    static func fetchDelivery(_ id: UUID, db: Database) throws -> Delivery? {
        let statement = try db.cachedStatement(sql: selectDelivery)
        return try Row.fetchOne(statement, arguments: [SQLiteRows.text(id)]).map(SQLiteRows.delivery)
    }
}
