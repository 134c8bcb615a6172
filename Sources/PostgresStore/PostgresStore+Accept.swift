import Audit
import Foundation
import Logging
import PostgresNIO
import Store

extension PostgresStore {
    /// The advisory lock class (two-int form) of the cooldown check.
    static let cooldownLockClass: Int32 = 0x5247_4331  // "RGC1"

    /// One transaction, every decision taken by the database so that replicas agree:
    /// (1) claim the key: `INSERT … ON CONFLICT DO UPDATE … WHERE expired` on the primary key. A
    /// concurrent claim of the same key waits for the first transaction and then finds its record
    /// (a replay or a reuse) — one delivery per key, whichever replica gets it. (2) Cooldown:
    /// an advisory transaction lock on identity and recipient, then the look for a recent
    /// delivery, so two keys for the same person on two replicas cannot both pass. (3) Insert the
    /// delivery, (4) append the audit event (locks the chain's head, last). Lock order is always
    /// key → cooldown → head, so these transactions cannot deadlock. Accepts of one key in this
    /// process run one at a time, the others answered from its outcome (`AcceptFlights`).
    public func accept(_ new: NewDelivery) async throws(StoreError) -> AcceptResult {
        try await acceptFlights.accept(new) { () async throws(StoreError) -> AcceptResult in
            let chain = chain
            let logger = logger
            return try await transaction { connection in
                try await Self.accept(new, chain: chain, connection: connection, logger: logger)
            }
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

    private static func accept(
        _ new: NewDelivery,
        chain: AuditChain,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> TransactionEnd<AcceptResult> {
        let delivery = new.delivery
        let idempotency = new.idempotency
        let now = PostgresRows.micros(delivery.createdAt)

        // (1) Claim the key, replacing an expired record; an unexpired one answers for it.
        let claimed = try await connection.query(
            """
            INSERT INTO idempotency_records (api_key_id, key, request_hash, response_status, response_body,
                delivery_id, expires_at_us)
            VALUES (\(idempotency.apiKeyID), \(idempotency.key), \(idempotency.requestHash),
                \(Int32(clamping: idempotency.responseStatus)), \(idempotency.responseBody), \(delivery.id),
                \(PostgresRows.micros(idempotency.expiresAt)))
            ON CONFLICT (api_key_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash,
                response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body,
                delivery_id = EXCLUDED.delivery_id, expires_at_us = EXCLUDED.expires_at_us
            WHERE idempotency_records.expires_at_us <= \(now)
            RETURNING 1
            """,
            logger: logger
        ).collect()
        if claimed.isEmpty {
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
                throw StoreError.database("the idempotency record changed during accept; retry")
            }
            return .rollback(earlier.result(forRequestHash: idempotency.requestHash))
        }

        // (2) Cooldown: the same identity and recipient, recently, under another key.
        if new.cooldown > 0, let identityID = delivery.identityID {
            let since = PostgresRows.micros(delivery.createdAt.addingTimeInterval(-new.cooldown))
            try await connection.query(
                """
                SELECT pg_advisory_xact_lock(\(cooldownLockClass),
                    hashtext(\(identityID.uuidString.lowercased()) || '/' || lower(\(delivery.recipient))))
                """,
                logger: logger
            )
            let latest = try await connection.query(
                """
                SELECT MAX(created_at_us) FROM deliveries
                WHERE identity_id = \(identityID) AND lower(recipient) = lower(\(delivery.recipient))
                AND created_at_us > \(since)
                AND NOT (api_key_id = \(idempotency.apiKeyID) AND idempotency_key = \(idempotency.key))
                """,
                logger: logger
            ).collect().map { try $0.decode(Int64?.self) }
            if let latest = latest.first ?? nil {
                let retryAfter = AuditTime.date(microseconds: latest).addingTimeInterval(new.cooldown)
                return .rollback(.cooldown(retryAfter: retryAfter))
            }
        }

        // (3) The delivery, (4) the audit event.
        let stored = try await insert(new.queued, idempotency: idempotency, connection: connection, logger: logger)
        var draft = new.audit
        draft.deliveryID = stored.id
        let event = try await PostgresAuditLog.append(draft, chain: chain, connection: connection, logger: logger)
        return .commit(.accepted(stored, event: event))
    }

    /// Inserts the delivery and answers the row as stored.
    private static func insert(
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
