import Audit
import Foundation
import Logging
import PostgresNIO
import Store
import UUIDText

extension PostgresStore {
    /// The key is claimed by the unique constraint: of two replicas creating the same batch at
    /// once, the second waits for the first's commit and then finds its batch.
    public func createBatch(_ batch: BatchRecord) async throws(StoreError) -> BatchCreation {
        let logger = logger
        return try await transaction { connection in
            let inserted = try await connection.query(
                """
                INSERT INTO recovery_batches (id, api_key_id, idempotency_key, request_hash, any_recipient,
                    source_ip, request_id, common, rate, status, total, ingest_complete, created_at_us)
                VALUES (\(batch.id), \(batch.apiKeyID), \(batch.idempotencyKey), \(batch.requestHash),
                    \(batch.anyRecipient), \(batch.sourceIP), \(batch.requestID), \(batch.common),
                    \(Int64(batch.rate)), 'ingesting', 0, false, \(PostgresRows.micros(batch.createdAt)))
                ON CONFLICT (api_key_id, idempotency_key) DO NOTHING
                RETURNING id
                """,
                logger: logger
            ).collect()
            let rows = try await connection.query(
                """
                SELECT * FROM recovery_batches
                WHERE api_key_id = \(batch.apiKeyID) AND idempotency_key = \(batch.idempotencyKey)
                """,
                logger: logger
            ).collect()
            guard let row = rows.first else { throw StoreError.batchNotFound(batch.id) }
            let stored = try PostgresRows.batch(row)
            if !inserted.isEmpty { return BatchCreation.created(stored) }
            return stored.requestHash == batch.requestHash ? .existing(stored) : .keyReused
        }
    }

    /// One statement for the whole chunk: the items' columns as arrays, unnested, inserted only while
    /// the batch is `ingesting` (its row share-locked, so a cancel waits for the chunk or the chunk
    /// for the cancel).
    @discardableResult
    public func addBatchItems(batchID: UUID, _ items: [NewBatchItem]) async throws(StoreError) -> Bool {
        let positions = items.map { Int64($0.position) }
        // Arrays of optionals do not bind; an empty string stands for NULL (no item is empty).
        let texts = items.map { $0.item ?? "" }
        let outcomes = items.map { ($0.invalidReason == nil ? BatchItemOutcome.pending : .invalid).rawValue }
        let reasons = items.map { $0.invalidReason ?? "" }
        let logger = logger
        return try await transaction { (connection) async throws -> Bool in
            let status = try await connection.query(
                "SELECT status FROM recovery_batches WHERE id = \(batchID) FOR SHARE",
                logger: logger
            ).collect().first?.decode(String.self)
            guard status == BatchStatus.ingesting.rawValue else { return false }
            try await connection.query(
                """
                INSERT INTO batch_items (batch_id, position, item, outcome, reason)
                SELECT \(batchID), p, NULLIF(i, ''), o, NULLIF(r, '')
                FROM unnest(\(positions)::bigint[], \(texts)::text[], \(outcomes)::text[], \(reasons)::text[])
                    AS t(p, i, o, r)
                ON CONFLICT (batch_id, position) DO NOTHING
                """,
                logger: logger
            )
            return true
        }
    }

    public func completeBatchIngest(id: UUID, total: Int, audit: AuditDraft) async throws(StoreError) -> BatchRecord {
        let (chain, logger) = (chain, logger)
        return try await transaction { (connection) async throws -> BatchRecord in
            guard let batch = try await Self.lockBatch(id, connection: connection, logger: logger) else {
                throw StoreError.batchNotFound(id)
            }
            guard !batch.ingestComplete else { return batch }
            let rows = try await connection.query(
                """
                UPDATE recovery_batches SET total = \(Int64(total)), ingest_complete = true,
                    status = CASE status WHEN 'ingesting' THEN 'running' ELSE status END
                WHERE id = \(id) RETURNING *
                """,
                logger: logger
            ).collect()
            guard let row = rows.first else { throw StoreError.batchNotFound(id) }
            let stored = try PostgresRows.batch(row)
            var audit = audit
            audit.outcome = stored.status.rawValue
            _ = try await PostgresAuditLog.write([audit], chain: chain, connection: connection, logger: logger)
            return stored
        }
    }

    public func batch(id: UUID) async throws(StoreError) -> BatchRecord? {
        let logger = logger
        return try await withConnection { connection in
            try await connection.query("SELECT * FROM recovery_batches WHERE id = \(id)", logger: logger)
                .collect().first.map(PostgresRows.batch)
        }
    }

    public func batchCounts(id: UUID) async throws(StoreError) -> BatchCounts {
        let logger = logger
        return try await withConnection { connection in
            let outcomes = try await connection.query(
                "SELECT outcome, count(*) FROM batch_items WHERE batch_id = \(id) GROUP BY outcome",
                logger: logger
            ).collect().map { row in
                let (name, count) = try row.decode((String, Int64).self)
                return (name, Int(count))
            }
            let deliveries = try await connection.query(
                """
                SELECT d.status, count(*) FROM batch_items i JOIN deliveries d ON d.id = i.delivery_id
                WHERE i.batch_id = \(id) AND i.outcome = 'accepted' GROUP BY d.status
                """,
                logger: logger
            ).collect().map { row in
                let (name, count) = try row.decode((String, Int64).self)
                return (name, Int(count))
            }
            return try BatchCounts(outcomeRows: outcomes, deliveryRows: deliveries)
        }
    }

    public func batchItems(_ query: BatchItemQuery) async throws(StoreError) -> Page<BatchItemRecord> {
        let after = Int64(try query.afterPosition())
        let logger = logger
        let fetched = try await withConnection { connection in
            try await connection.query(
                """
                SELECT * FROM batch_items
                WHERE batch_id = \(query.batchID) AND position > \(after)
                AND (\(query.outcome?.rawValue)::text IS NULL OR outcome = \(query.outcome?.rawValue))
                ORDER BY position LIMIT \(Int64(query.limit + 1))
                """,
                logger: logger
            ).collect().map(PostgresRows.batchItem)
        }
        return Page(fetched: fetched, limit: query.limit) { String($0.position) }
    }

    public func changeBatchStatus(
        id: UUID,
        from: Set<BatchStatus>,
        to: BatchStatus,
        at: Date,
        reason: String?,
        audit: AuditDraft?
    ) async throws(StoreError) -> BatchChange? {
        let (chain, logger) = (chain, logger)
        return try await transaction { (connection) async throws -> BatchChange? in
            // The row lock first: an accept of one of its items (the trigger share-locks the row)
            // either committed before it, or waits and then finds the new status.
            guard let batch = try await Self.lockBatch(id, connection: connection, logger: logger),
                from.contains(batch.status)
            else { return nil }
            let finished: Int64? = to == .cancelled ? PostgresRows.micros(at) : nil
            let pausedReason = to == .paused ? reason : nil
            let rows = try await connection.query(
                """
                UPDATE recovery_batches SET status = \(to.rawValue),
                    finished_at_us = COALESCE(\(finished), finished_at_us), paused_reason = \(pausedReason)
                WHERE id = \(id) RETURNING *
                """,
                logger: logger
            ).collect()
            guard let row = rows.first else { throw StoreError.batchNotFound(id) }
            var change = BatchChange(batch: try PostgresRows.batch(row), cancelledItems: 0)
            let cancel = audit ?? AuditDraft(at: at, actor: "system", action: .batchCancelled)
            var drafts: [AuditDraft] = []
            if to == .cancelled {
                (drafts, change.cancelledItems, change.onTheWire) = try await Self.cancelItems(
                    of: batch,
                    by: cancel,
                    chain: chain,
                    connection: connection,
                    logger: logger
                )
            }
            if var audit {
                if to == .cancelled {
                    audit.details["cancelled_items"] = String(change.cancelledItems)
                    audit.details["on_the_wire"] = String(change.onTheWire)
                }
                drafts.append(audit)
            }
            _ = try await PostgresAuditLog.write(drafts, chain: chain, connection: connection, logger: logger)
            return change
        }
    }

    /// Cancels what of `batch` is not yet sent (see the SQLite store's `cancelItems`): the items
    /// accepted but not yet recorded are recorded `accepted` (found by item key), the deliveries no
    /// worker has taken fail as `cancelled` (row locks in id order, the audit head last, as in the
    /// group commit), their items and the pending ones are `cancelled`. Answers the `email.failed`
    /// drafts, how many items that cancelled, and how many deliveries are `sending`.
    private static func cancelItems(
        of batch: BatchRecord,
        by cancel: AuditDraft,
        chain: AuditChain,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> (drafts: [AuditDraft], cancelled: Int, onTheWire: Int) {
        let (id, prefix) = (batch.id, BatchRecord.itemKeyPrefix(batch.id))
        try await connection.query(
            """
            UPDATE batch_items SET outcome = 'accepted', delivery_id = r.delivery_id
            FROM idempotency_records r
            WHERE batch_items.batch_id = \(id) AND batch_items.outcome = 'pending'
            AND r.api_key_id = \(batch.apiKeyID) AND r.key = \(prefix) || batch_items.position
            """,
            logger: logger
        )
        let stopped = try await connection.query(
            """
            UPDATE deliveries SET status = 'failed', failure = \(DeliveryFailure.cancelled.rawValue),
                lease_expires_at_us = NULL, next_attempt_at_us = NULL, sealed_payload = NULL
            WHERE id IN (
                SELECT d.id FROM deliveries d JOIN batch_items i ON i.delivery_id = d.id
                WHERE i.batch_id = \(id) AND i.outcome = 'accepted' AND d.status IN ('queued', 'retrying')
                ORDER BY d.id FOR UPDATE OF d
            )
            AND status IN ('queued', 'retrying')
            RETURNING *
            """,
            logger: logger
        ).collect().map(PostgresRows.delivery)
        let counts = try await connection.query(
            """
            WITH stopped AS (
                UPDATE batch_items SET outcome = 'cancelled'
                WHERE batch_id = \(id)
                AND (outcome = 'pending' OR delivery_id = ANY(\(stopped.map(\.id))::uuid[]))
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM stopped), (
                SELECT count(*) FROM batch_items i JOIN deliveries d ON d.id = i.delivery_id
                WHERE i.batch_id = \(id) AND i.outcome = 'accepted' AND d.status = 'sending'
            )
            """,
            logger: logger
        ).collect().map { try $0.decode((Int64, Int64).self) }
        let drafts = stopped.map { AuditDraft.cancelled($0, batchID: id, by: cancel, chain: chain) }
        return (drafts, Int(counts.first?.0 ?? 0), Int(counts.first?.1 ?? 0))
    }

    public func leaseBatches(
        owner: String,
        now: Date,
        leaseFor: TimeInterval
    ) async throws(StoreError)
        -> [BatchRecord]
    {
        let logger = logger
        let until = PostgresRows.micros(now.addingTimeInterval(leaseFor))
        let nowMicros = PostgresRows.micros(now)
        return try await withConnection { connection in
            try await connection.query(
                """
                UPDATE recovery_batches SET runner = \(owner), runner_lease_until_us = \(until)
                WHERE status = 'running'
                AND (runner = \(owner) OR runner IS NULL OR runner_lease_until_us <= \(nowMicros))
                RETURNING *
                """,
                logger: logger
            ).collect().map(PostgresRows.batch).sorted { $0.createdAt < $1.createdAt }
        }
    }

    public func pendingBatchItems(batchID: UUID, limit: Int) async throws(StoreError) -> [BatchItemRecord] {
        let logger = logger
        return try await withConnection { connection in
            try await connection.query(
                """
                SELECT * FROM batch_items WHERE batch_id = \(batchID) AND outcome = 'pending'
                ORDER BY position LIMIT \(Int64(limit))
                """,
                logger: logger
            ).collect().map(PostgresRows.batchItem)
        }
    }

    public func recordBatchItems(batchID: UUID, _ results: [BatchItemRecord], at: Date) async throws(StoreError) {
        let logger = logger
        let positions = results.map { Int64($0.position) }
        let outcomes = results.map(\.outcome.rawValue)
        // Arrays of optionals do not bind; an empty string stands for NULL.
        let reasons = results.map { $0.reason ?? "" }
        let identities = results.map { $0.identityID.map { $0.lowercasedString } ?? "" }
        let recipients = results.map { $0.recipientMasked ?? "" }
        let deliveries = results.map { $0.deliveryID.map { $0.lowercasedString } ?? "" }
        try await transaction { connection in
            try await connection.query(
                """
                UPDATE batch_items SET outcome = t.o, reason = NULLIF(t.r, ''),
                    identity_id = NULLIF(t.i, '')::uuid, recipient_masked = NULLIF(t.m, ''),
                    delivery_id = NULLIF(t.d, '')::uuid
                FROM unnest(\(positions)::bigint[], \(outcomes)::text[], \(reasons)::text[],
                    \(identities)::text[], \(recipients)::text[], \(deliveries)::text[]) AS t(p, o, r, i, m, d)
                WHERE batch_items.batch_id = \(batchID) AND batch_items.position = t.p
                AND (batch_items.outcome = 'pending'
                    OR (batch_items.outcome = 'accepted' AND t.o = 'accepted' AND batch_items.delivery_id = NULLIF(t.d, '')::uuid))
                """,
                logger: logger
            )
            try await connection.query(
                """
                UPDATE recovery_batches SET status = 'done', finished_at_us = \(PostgresRows.micros(at))
                WHERE id = \(batchID) AND status = 'running' AND ingest_complete
                AND NOT EXISTS (SELECT 1 FROM batch_items WHERE batch_id = \(batchID) AND outcome = 'pending')
                """,
                logger: logger
            )
        }
    }

    public func queuedDeliveries(now: Date) async throws(StoreError) -> Int {
        let logger = logger
        return try await withConnection { connection in
            let counts = try await connection.query(
                """
                SELECT count(*) FROM deliveries
                WHERE status = 'queued' AND next_attempt_at_us <= \(PostgresRows.micros(now))
                """,
                logger: logger
            ).collect().map { try $0.decode(Int64.self) }
            return Int(counts.first ?? 0)
        }
    }

    /// The batch, its row locked until the transaction ends (status changes queue on it).
    private static func lockBatch(
        _ id: UUID,
        connection: PostgresConnection,
        logger: Logger
    ) async throws
        -> BatchRecord?
    {
        try await connection.query("SELECT * FROM recovery_batches WHERE id = \(id) FOR UPDATE", logger: logger)
            .collect().first.map(PostgresRows.batch)
    }
}
