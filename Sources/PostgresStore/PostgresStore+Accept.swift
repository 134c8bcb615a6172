import Audit
import Foundation
import Logging
import PostgresNIO
import Store

extension PostgresStore {
    /// The advisory lock class (two-int form) of the cooldown check.
    static let cooldownLockClass: Int32 = 0x5247_4331  // "RGC1"

    /// Every decision is taken by the database, so that replicas agree: (1) claim the key:
    /// `INSERT … ON CONFLICT DO UPDATE … WHERE expired` on the primary key. A concurrent claim of
    /// the same key waits for the first transaction and then finds its record (a replay or a reuse)
    /// — one delivery per key, whichever replica gets it. (2) Cooldown: an advisory transaction lock
    /// on identity and recipient, then the look for a recent delivery, so two keys for the same
    /// person on two replicas cannot both pass. (3) Insert the delivery, (4) append the audit event
    /// (locks the chain's head, last). The accept shares its transaction with the others waiting
    /// at the same time (`writeBatch` says in which order they take their locks). Accepts of one
    /// key in this process run one at a time, the others answered from its outcome
    /// (`AcceptFlights`), so a batch never holds two units of one key.
    public func accept(_ new: NewDelivery) async throws(StoreError) -> AcceptResult {
        let groupCommit = groupCommit
        return try await acceptFlights.accept(new) { () async throws(StoreError) -> AcceptResult in
            guard case .accept(let result) = try await groupCommit.submit(.accept(new)) else {
                throw StoreError.database("the group commit answered an accept with another write's result")
            }
            return result
        }
    }

    public func idempotentAnswer(apiKeyID: String, key: String, now: Date) async throws(StoreError) -> IdempotentAnswer?
    {
        let logger = logger
        return try await withConnection { connection in
            try await Self.idempotentAnswer(
                apiKeyID: apiKeyID,
                key: key,
                now: PostgresRows.micros(now),
                connection: connection,
                logger: logger
            )
        }
    }

    private static func idempotentAnswer(
        apiKeyID: String,
        key: String,
        now: Int64,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> IdempotentAnswer? {
        let rows = try await connection.query(
            """
            SELECT request_hash, response_status, response_body, delivery_id FROM idempotency_records
            WHERE api_key_id = \(apiKeyID) AND key = \(key) AND expires_at_us > \(now)
            """,
            logger: logger
        ).collect()
        guard let row = rows.first else { return nil }
        let cells = PostgresRows.Cells(row: row.makeRandomAccess(), table: "idempotency_records")
        let status: Int32 = try cells["response_status"]
        return IdempotentAnswer(
            requestHash: try cells["request_hash"],
            status: Int(status),
            body: try cells["response_body"],
            deliveryID: try cells["delivery_id"]
        )
    }

    /// Step (1): claims the key of `new`, replacing an expired record. Answers nil when it is
    /// claimed, or the answer of the unexpired record that holds it (a replay or `keyReused`).
    static func claim(
        _ new: NewDelivery,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> Result<AcceptResult, StoreError>? {
        let idempotency = new.idempotency
        let now = PostgresRows.micros(new.delivery.createdAt)
        let claimed = try await connection.query(
            """
            INSERT INTO idempotency_records (api_key_id, key, request_hash, response_status, response_body,
                delivery_id, expires_at_us)
            VALUES (\(idempotency.apiKeyID), \(idempotency.key), \(idempotency.requestHash),
                \(Int32(clamping: idempotency.responseStatus)), \(idempotency.responseBody), \(new.delivery.id),
                \(PostgresRows.micros(idempotency.expiresAt)))
            ON CONFLICT (api_key_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash,
                response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body,
                delivery_id = EXCLUDED.delivery_id, expires_at_us = EXCLUDED.expires_at_us
            WHERE idempotency_records.expires_at_us <= \(now)
            RETURNING 1
            """,
            logger: logger
        ).collect()
        guard claimed.isEmpty else { return nil }
        guard
            let earlier = try await idempotentAnswer(
                apiKeyID: idempotency.apiKeyID,
                key: idempotency.key,
                now: now,
                connection: connection,
                logger: logger
            )
        else {
            // The record that refused the claim expired or was purged in between: try again.
            return .failure(.database("the idempotency record changed during accept; retry"))
        }
        return .success(earlier.result(forRequestHash: idempotency.requestHash))
    }

    /// Step (2), the locks: the cooldown lock of every accept in `news` that has a cooldown, in one
    /// statement and in the order of the locks' keys (see `writeBatch`).
    static func lockCooldowns(_ news: [NewDelivery], connection: PostgresConnection, logger: Logger) async throws {
        let cooled = news.filter { $0.cooldown > 0 && $0.delivery.identityID != nil }
        guard !cooled.isEmpty else { return }
        let identities = cooled.compactMap { $0.delivery.identityID?.uuidString.lowercased() }
        let recipients = cooled.map(\.delivery.recipient)
        try await connection.query(
            """
            SELECT pg_advisory_xact_lock(\(cooldownLockClass), lock) FROM (
                SELECT DISTINCT hashtext(identity || '/' || lower(recipient)) AS lock
                FROM unnest(\(identities)::text[], \(recipients)::text[]) AS accept(identity, recipient)
                ORDER BY lock
            ) AS locks
            """,
            logger: logger
        )
    }

    /// Step (2), the look, once `new`'s cooldown lock is held: when `new` must wait, until when.
    static func cooldown(_ new: NewDelivery, connection: PostgresConnection, logger: Logger) async throws -> Date? {
        let delivery = new.delivery
        let idempotency = new.idempotency
        guard new.cooldown > 0, let identityID = delivery.identityID else { return nil }
        let since = PostgresRows.micros(delivery.createdAt.addingTimeInterval(-new.cooldown))
        let latest = try await connection.query(
            """
            SELECT MAX(created_at_us) FROM deliveries
            WHERE identity_id = \(identityID) AND lower(recipient) = lower(\(delivery.recipient))
            AND created_at_us > \(since)
            AND NOT (api_key_id = \(idempotency.apiKeyID) AND idempotency_key = \(idempotency.key))
            """,
            logger: logger
        ).collect().map { try $0.decode(Int64?.self) }
        return (latest.first ?? nil).map { AuditTime.date(microseconds: $0).addingTimeInterval(new.cooldown) }
    }

    /// Gives back the key `new` claimed when it is refused for its cooldown: a refusal stores nothing
    /// for the key. (A claim that replaced an expired record removes it with the claim; an expired
    /// record answers nothing any more, and the purge would remove it anyway.)
    static func unclaim(_ new: NewDelivery, connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            DELETE FROM idempotency_records
            WHERE api_key_id = \(new.idempotency.apiKeyID) AND key = \(new.idempotency.key)
            AND delivery_id = \(new.delivery.id)
            """,
            logger: logger
        )
    }

    /// Step (3): inserts the delivery and answers the row as stored.
    static func insert(
        _ record: DeliveryRecord,
        idempotency: IdempotencyEntry,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> DeliveryRecord {
        var binds = PostgresBindings()
        for column in DeliveryColumn.allCases {
            binds.append(column.value(of: record, idempotency: idempotency))
        }
        let placeholders = (1...binds.count).map { "$\($0)" }.joined(separator: ", ")
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: "INSERT INTO deliveries \(DeliveryColumn.list) VALUES (\(placeholders)) RETURNING *",
                binds: binds
            ),
            logger: logger
        ).collect()
        guard let row = rows.first else { throw StoreError.deliveryNotFound(record.id) }
        return try PostgresRows.delivery(row)
    }

    static func fetchDelivery(
        _ id: UUID,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> DeliveryRecord? {
        try await connection.query("SELECT * FROM deliveries WHERE id = \(id)", logger: logger).collect()
            .first.map(PostgresRows.delivery)
    }
}
