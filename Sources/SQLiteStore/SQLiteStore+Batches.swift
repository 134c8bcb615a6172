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

    @discardableResult
    public func addBatchItems(batchID: UUID, _ items: [NewBatchItem]) async throws(StoreError) -> Bool {
        try await write { (db) throws -> Bool in
            let status = try String.fetchOne(
                db,
                sql: "SELECT status FROM recovery_batches WHERE id = ?",
                arguments: [SQLiteRows.text(batchID)]
            )
            guard status == BatchStatus.ingesting.rawValue else { return false }
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
            return true
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
            guard let stored = try Self.fetchBatch(id: id, db: db) else { throw StoreError.batchNotFound(id) }
            var audit = audit
            audit.outcome = stored.status.rawValue
            _ = try SQLiteAuditLog.append(audit, chain: chain, db: db)
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
        reason: String?,
        audit: AuditDraft?
    ) async throws(StoreError) -> BatchChange? {
        let chain = chain
        return try await write { db in
            guard let batch = try Self.fetchBatch(id: id, db: db), from.contains(batch.status) else { return nil }
            let finished: Int64? = to == .cancelled ? SQLiteRows.micros(at) : nil
            try db.execute(
                sql: """
                    UPDATE recovery_batches SET status = ?, finished_at_us = COALESCE(?, finished_at_us),
                        paused_reason = ?
                    WHERE id = ?
                    """,
                arguments: [to.rawValue, finished, to == .paused ? reason : nil, SQLiteRows.text(id)]
            )
            var change = BatchChange(batch: batch, cancelledItems: 0)
            if to == .cancelled {
                change = try Self.cancelItems(
                    of: batch,
                    by: audit ?? AuditDraft(at: at, actor: "system", action: .batchCancelled),
                    chain: chain,
                    db: db
                )
            }
            if var audit {
                if to == .cancelled {
                    audit.details["cancelled_items"] = String(change.cancelledItems)
                    audit.details["on_the_wire"] = String(change.onTheWire)
                }
                _ = try SQLiteAuditLog.append(audit, chain: chain, db: db)
            }
            guard let stored = try Self.fetchBatch(id: id, db: db) else { throw StoreError.batchNotFound(id) }
            change.batch = stored
            return change
        }
    }

    /// Cancels what of `batch` is not yet sent, in the cancel's transaction: first the items accepted
    /// but not yet recorded (their deliveries found by item key) are recorded `accepted`; then the
    /// deliveries no worker has taken (`queued`, `retrying`) fail as `cancelled`, each with its
    /// `email.failed` event, and their items and the pending ones are `cancelled`. Answers how many
    /// items that cancelled, and how many deliveries a worker holds (`sending`: on the wire).
    private static func cancelItems(
        of batch: BatchRecord,
        by cancel: AuditDraft,
        chain: AuditChain,
        db: Database
    ) throws -> BatchChange {
        let id = SQLiteRows.text(batch.id)
        let prefix = BatchRecord.itemKeyPrefix(batch.id)
        try db.execute(
            sql: """
                UPDATE batch_items SET outcome = 'accepted', delivery_id = (
                    SELECT r.delivery_id FROM idempotency_records r
                    WHERE r.api_key_id = ? AND r.key = ? || batch_items.position
                )
                WHERE batch_id = ? AND outcome = 'pending' AND EXISTS (
                    SELECT 1 FROM idempotency_records r
                    WHERE r.api_key_id = ? AND r.key = ? || batch_items.position
                )
                """,
            arguments: [batch.apiKeyID, prefix, id, batch.apiKeyID, prefix]
        )
        let stopped = try Row.fetchAll(
            db,
            sql: """
                SELECT \(SQLiteRows.deliveryColumns(qualifiedBy: "d")) FROM deliveries d JOIN batch_items i ON i.delivery_id = d.id
                WHERE i.batch_id = ? AND i.outcome = 'accepted' AND d.status IN ('queued', 'retrying')
                ORDER BY i.position
                """,
            arguments: [id]
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
                arguments: [id, SQLiteRows.text(delivery.id)]
            )
            _ = try SQLiteAuditLog.append(
                .cancelled(delivery, batchID: batch.id, by: cancel, chain: chain),
                chain: chain,
                db: db
            )
        }
        try db.execute(
            sql: "UPDATE batch_items SET outcome = 'cancelled' WHERE batch_id = ? AND outcome = 'pending'",
            arguments: [id]
        )
        let pending = db.changesCount
        let sending = try Int.fetchOne(
            db,
            sql: """
                SELECT COUNT(*) FROM batch_items i JOIN deliveries d ON d.id = i.delivery_id
                WHERE i.batch_id = ? AND i.outcome = 'accepted' AND d.status = 'sending'
                """,
            arguments: [id]
        )
        return BatchChange(batch: batch, cancelledItems: pending + stopped.count, onTheWire: sending ?? 0)
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
                    AND (outcome = 'pending' OR (outcome = ? AND outcome = 'accepted' AND delivery_id = ?))
                    """
            )
            for result in results {
                let delivery = result.deliveryID.map(SQLiteRows.text)
                try statement.execute(arguments: [
                    result.outcome.rawValue, result.reason, result.identityID.map(SQLiteRows.text),
                    result.recipientMasked, delivery, id, result.position, result.outcome.rawValue, delivery,
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
