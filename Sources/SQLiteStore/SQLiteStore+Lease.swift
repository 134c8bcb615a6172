import Audit
import Foundation
import GRDB
import Store

extension SQLiteStore {
    public func leaseDue(now: Date, limit: Int, leaseFor: TimeInterval) async throws(StoreError) -> [Delivery] {
        guard limit >= 1 else { throw .invalidQuery(parameter: "limit", reason: "must be at least 1") }
        guard leaseFor > 0 else { throw .invalidQuery(parameter: "leaseFor", reason: "must be positive") }
        let nowMicros = SQLiteRows.micros(now)
        let leaseUntil = SQLiteRows.micros(now.addingTimeInterval(leaseFor))
        // One statement on SQLite's single writer, so a row cannot be leased twice while its lease
        // runs. It goes through the group commit like accepts and outcomes: a lease taken on the
        // writer beside the group commit made every accept behind it wait for a flush of its own.
        let leased = try await groupWrite(.lease) { db in
            // Cached: preparing the `RETURNING` list calls GRDB's authorizer once per column.
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE deliveries
                    SET status = 'sending', lease_expires_at_us = ?, attempts = attempts + 1
                    WHERE id IN (
                        SELECT id FROM deliveries
                        WHERE (status IN ('queued', 'retrying') AND next_attempt_at_us <= ?)
                           OR (status = 'sending' AND lease_expires_at_us <= ?)
                        ORDER BY created_at_us, id
                        LIMIT ?
                    )
                    RETURNING \(SQLiteRows.deliveryColumns())
                    """
            )
            return try Row.fetchAll(statement, arguments: [leaseUntil, nowMicros, nowMicros, limit])
                .map(SQLiteRows.delivery)
        }
        return leased.inLeaseOrder()
    }

    public func finish(
        id: UUID,
        attempt: Int,
        outcome: DeliveryOutcome,
        audit: [AuditDraft]
    ) async throws(StoreError) {
        let chain = chain
        try await groupWrite(.outcome) { db in
            try Self.requireSending(id, attempt: attempt, db: db)
            let idText = SQLiteRows.text(id)
            switch outcome {
            case .sent(let reply, let at):
                try db.cachedStatement(
                    sql: """
                        UPDATE deliveries SET status = 'sent', smtp_reply = ?, sent_at_us = ?,
                            lease_expires_at_us = NULL, next_attempt_at_us = NULL, sealed_payload = NULL
                        WHERE id = ?
                        """
                ).execute(arguments: [reply, SQLiteRows.micros(at), idText])
            case .retry(let at, let errorClass, let error, let countsAsAttempt):
                try db.cachedStatement(
                    sql: """
                        UPDATE deliveries SET status = 'retrying', next_attempt_at_us = ?, last_error_class = ?,
                            last_error = ?, lease_expires_at_us = NULL,
                            attempts = CASE WHEN ? THEN attempts ELSE MAX(attempts - 1, 0) END
                        WHERE id = ?
                        """
                ).execute(arguments: [SQLiteRows.micros(at), errorClass.rawValue, error, countsAsAttempt, idText])
            case .failed(let failure, let errorClass, let error):
                try db.cachedStatement(
                    sql: """
                        UPDATE deliveries SET status = 'failed', failure = ?,
                            last_error_class = COALESCE(?, last_error_class), last_error = COALESCE(?, last_error),
                            lease_expires_at_us = NULL, next_attempt_at_us = NULL, sealed_payload = NULL
                        WHERE id = ?
                        """
                ).execute(arguments: [failure.rawValue, errorClass?.rawValue, error, idText])
            }
            for var draft in audit {
                draft.deliveryID = draft.deliveryID ?? id
                _ = try SQLiteAuditLog.append(draft, chain: chain, db: db)
            }
        }
    }

    /// The delivery must still be in the leased attempt: a worker whose lease ran out (and whose
    /// delivery another worker leased again, counting a new attempt) must not overwrite it.
    /// It reads the two cells it checks, not the whole delivery (decoding one costs more than the rest of
    /// the check).
    private static func requireSending(_ id: UUID, attempt: Int, db: Database) throws {
        let statement = try db.cachedStatement(sql: "SELECT status, attempts FROM deliveries WHERE id = ?")
        guard let row = try Row.fetchOne(statement, arguments: [SQLiteRows.text(id)]) else {
            throw StoreError.deliveryNotFound(id)
        }
        guard let status = DeliveryStatus(rawValue: row[0]) else {
            throw StoreError.corruptRow(table: "deliveries", column: "status")
        }
        guard status == .sending, row[1] as Int == attempt else { throw StoreError.leaseLost(id, status: status) }
    }
}
