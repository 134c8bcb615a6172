import Audit
import Foundation
import GRDB
import Store

extension SQLiteStore {
    public func createBatch(_ batch: BatchRecord) async throws(StoreError) -> BatchCreation {
        try await write { db in
            if let earlier = try Self.fetchBatch(
                sql: "SELECT * FROM recovery_batches WHERE api_key_id = ? AND idempotency_key = ?",
                arguments: [batch.apiKeyID, batch.idempotencyKey],
                db: db
            ) {
                return earlier.requestHash == batch.requestHash ? .existing(earlier) : .keyReused
            }
            try db.execute(
                sql: """
                    INSERT INTO recovery_batches (id, api_key_id, idempotency_key, request_hash, any_recipient,
                        source_ip, request_id, common, rate, status, total, ingest_complete, created_at_us)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'ingesting', 0, 0, ?)
                    """,
                arguments: [
                    SQLiteRows.text(batch.id), batch.apiKeyID, batch.idempotencyKey, batch.requestHash,
                    batch.anyRecipient, batch.sourceIP, batch.requestID, batch.common, batch.rate,
                    SQLiteRows.micros(batch.createdAt),
                ]
            )
            guard let stored = try Self.fetchBatch(id: batch.id, db: db) else {
                throw StoreError.batchNotFound(batch.id)
            }
            return .created(stored)
        }
    }

    public func addBatchItems(batchID: UUID, _ items: [NewBatchItem]) async throws(StoreError) {
        guard !items.isEmpty else { return }
        try await write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO batch_items (batch_id, position, item, outcome, reason)
                    VALUES (?, ?, ?, ?, ?)
                    """
            )
            let id = SQLiteRows.text(batchID)
            for item in items {
                let outcome: BatchItemOutcome = item.invalidReason == nil ? .pending : .invalid
                try statement.execute(arguments: [id, item.position, item.item, outcome.rawValue, item.invalidReason])
            }
        }
    }

    public func completeBatchIngest(id: UUID, total: Int, audit: AuditDraft) async throws(StoreError) -> BatchRecord {
        let chain = chain
        return try await write { db in
            guard let batch = try Self.fetchBatch(id: id, db: db) else { throw StoreError.batchNotFound(id) }
            guard !batch.ingestComplete else { return batch }
            try db.execute(
                sql: """
                    UPDATE recovery_batches SET total = ?, ingest_complete = 1,
                        status = CASE status WHEN 'ingesting' THEN 'running' ELSE status END
                    WHERE id = ?
                    """,
                arguments: [total, SQLiteRows.text(id)]
            )
            _ = try SQLiteAuditLog.append(audit, chain: chain, db: db)
            guard let stored = try Self.fetchBatch(id: id, db: db) else { throw StoreError.batchNotFound(id) }
            return stored
        }
    }

    public func batch(id: UUID) async throws(StoreError) -> BatchRecord? {
        try await read { db in try Self.fetchBatch(id: id, db: db) }
    }

    public func batchCounts(id: UUID) async throws(StoreError) -> BatchCounts {
        try await read { db in
            let pairs = { (sql: String) in
                try Row.fetchAll(db, sql: sql, arguments: [SQLiteRows.text(id)]).map { row in
                    (row[0] as String, row[1] as Int)
                }
            }
            return try BatchCounts(
                outcomeRows: try pairs("SELECT outcome, COUNT(*) FROM batch_items WHERE batch_id = ? GROUP BY outcome"),
                deliveryRows: try pairs(
                    """
                    SELECT d.status, COUNT(*) FROM batch_items i JOIN deliveries d ON d.id = i.delivery_id
                    WHERE i.batch_id = ? AND i.outcome = 'accepted' GROUP BY d.status
                    """
                )
            )
        }
    }

    public func batchItems(_ query: BatchItemQuery) async throws(StoreError) -> Page<BatchItemRecord> {
        let after = try query.afterPosition()
        let fetched = try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM batch_items WHERE batch_id = ? AND position > ? AND (? IS NULL OR outcome = ?)
                    ORDER BY position LIMIT ?
                    """,
                arguments: [
                    SQLiteRows.text(query.batchID), after, query.outcome?.rawValue, query.outcome?.rawValue,
                    query.limit + 1,
                ]
            ).map(SQLiteRows.batchItem)
        }
        return Page(fetched: fetched, limit: query.limit) { String($0.position) }
    }

    public func changeBatchStatus(
        id: UUID,
        from: Set<BatchStatus>,
        to: BatchStatus,
        at: Date,
        audit: AuditDraft?
    ) async throws(StoreError) -> BatchChange? {
        let chain = chain
        return try await write { db in
            guard let batch = try Self.fetchBatch(id: id, db: db), from.contains(batch.status) else { return nil }
            let finished: Int64? = to == .cancelled ? SQLiteRows.micros(at) : nil
            try db.execute(
                sql:
                    "UPDATE recovery_batches SET status = ?, finished_at_us = COALESCE(?, finished_at_us) WHERE id = ?",
                arguments: [to.rawValue, finished, SQLiteRows.text(id)]
            )
            var cancelled = 0
            if to == .cancelled {
                try db.execute(
                    sql: "UPDATE batch_items SET outcome = 'cancelled' WHERE batch_id = ? AND outcome = 'pending'",
                    arguments: [SQLiteRows.text(id)]
                )
                cancelled = db.changesCount
                cancelled += try Self.cancelQueuedDeliveries(
                    batchID: id,
                    by: audit ?? AuditDraft(at: at, actor: "system", action: .batchCancelled),
                    chain: chain,
                    db: db
                )
            }
            if var audit {
                if to == .cancelled { audit.details["cancelled_items"] = String(cancelled) }
                _ = try SQLiteAuditLog.append(audit, chain: chain, db: db)
            }
            guard let stored = try Self.fetchBatch(id: id, db: db) else { throw StoreError.batchNotFound(id) }
            return BatchChange(batch: stored, cancelledItems: cancelled)
        }
    }

    /// Fails the batch's deliveries that no worker has taken yet (`queued`, `retrying`) as
    /// `cancelled`, each with its `email.failed` event, and marks their items `cancelled`; answers
    /// how many. One in a worker's hands (`sending`) goes on: it may be on the wire.
    private static func cancelQueuedDeliveries(
        batchID: UUID,
        by cancel: AuditDraft,
        chain: AuditChain,
        db: Database
    ) throws -> Int {
        let stopped = try Row.fetchAll(
            db,
            sql: """
                SELECT \(SQLiteRows.deliveryColumns(qualifiedBy: "d")) FROM deliveries d JOIN batch_items i ON i.delivery_id = d.id
                WHERE i.batch_id = ? AND i.outcome = 'accepted' AND d.status IN ('queued', 'retrying')
                ORDER BY i.position
                """,
            arguments: [SQLiteRows.text(batchID)]
        ).map(SQLiteRows.delivery)
        for delivery in stopped {
            try db.execute(
                sql: """
                    UPDATE deliveries SET status = 'failed', failure = ?, lease_expires_at_us = NULL,
                        next_attempt_at_us = NULL, sealed_payload = NULL
                    WHERE id = ?
                    """,
                arguments: [DeliveryFailure.cancelled.rawValue, SQLiteRows.text(delivery.id)]
            )
            try db.execute(
                sql: "UPDATE batch_items SET outcome = 'cancelled' WHERE batch_id = ? AND delivery_id = ?",
                arguments: [SQLiteRows.text(batchID), SQLiteRows.text(delivery.id)]
            )
            _ = try SQLiteAuditLog.append(
                .cancelled(delivery, batchID: batchID, by: cancel, chain: chain),
                chain: chain,
                db: db
            )
        }
        return stopped.count
    }

    public func leaseBatches(
        owner: String,
        now: Date,
        leaseFor: TimeInterval
    ) async throws(StoreError)
        -> [BatchRecord]
    {
        // Most of the time no batch runs: a read then, not a write transaction every poll.
        let running = try await read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM recovery_batches WHERE status = 'running')")
        }
        guard running == true else { return [] }
        return try await write { db in
            let nowMicros = SQLiteRows.micros(now)
            try db.execute(
                sql: """
                    UPDATE recovery_batches SET runner = ?, runner_lease_until_us = ?
                    WHERE status = 'running' AND (runner = ? OR runner IS NULL OR runner_lease_until_us <= ?)
                    """,
                arguments: [owner, SQLiteRows.micros(now.addingTimeInterval(leaseFor)), owner, nowMicros]
            )
            return try Self.fetchBatches(
                sql: "SELECT * FROM recovery_batches WHERE status = 'running' AND runner = ? ORDER BY created_at_us",
                arguments: [owner],
                db: db
            )
        }
    }

    public func pendingBatchItems(batchID: UUID, limit: Int) async throws(StoreError) -> [BatchItemRecord] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM batch_items WHERE batch_id = ? AND outcome = 'pending' ORDER BY position LIMIT ?",
                arguments: [SQLiteRows.text(batchID), limit]
            ).map(SQLiteRows.batchItem)
        }
    }

    public func recordBatchItems(batchID: UUID, _ results: [BatchItemRecord], at: Date) async throws(StoreError) {
        try await write { db in
            let id = SQLiteRows.text(batchID)
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE batch_items SET outcome = ?, reason = ?, identity_id = ?, recipient_masked = ?,
                        delivery_id = ?
                    WHERE batch_id = ? AND position = ?
                    AND (outcome = 'pending' OR (outcome = 'cancelled' AND ? = 'accepted'))
                    """
            )
            for result in results {
                try statement.execute(arguments: [
                    result.outcome.rawValue, result.reason, result.identityID.map(SQLiteRows.text),
                    result.recipientMasked, result.deliveryID.map(SQLiteRows.text), id, result.position,
                    result.outcome.rawValue,
                ])
            }
            try db.execute(
                sql: """
                    UPDATE recovery_batches SET status = 'done', finished_at_us = ?
                    WHERE id = ? AND status = 'running' AND ingest_complete = 1
                    AND NOT EXISTS (SELECT 1 FROM batch_items WHERE batch_id = ? AND outcome = 'pending')
                    """,
                arguments: [SQLiteRows.micros(at), id, id]
            )
        }
    }

    public func queuedDeliveries(now: Date) async throws(StoreError) -> Int {
        try await read { db in
            try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM deliveries WHERE status = 'queued' AND next_attempt_at_us <= ?",
                arguments: [SQLiteRows.micros(now)]
            ) ?? 0
        }
    }

    private static func fetchBatch(id: UUID, db: Database) throws -> BatchRecord? {
        try fetchBatch(sql: "SELECT * FROM recovery_batches WHERE id = ?", arguments: [SQLiteRows.text(id)], db: db)
    }

    private static func fetchBatch(sql: String, arguments: StatementArguments, db: Database) throws -> BatchRecord? {
        try fetchBatches(sql: sql, arguments: arguments, db: db).first
    }

    private static func fetchBatches(sql: String, arguments: StatementArguments, db: Database) throws -> [BatchRecord] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map(SQLiteRows.batch)
    }
}
