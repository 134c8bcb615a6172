import Audit
import Foundation
import Logging
import PostgresNIO
import Store

extension PostgresStore {
    /// `FOR UPDATE SKIP LOCKED`: concurrent leasers on any replica lock disjoint due rows and skip
    /// the ones another holds; a row updated by a leaser that committed first is re-checked against
    /// the condition (READ COMMITTED), so a row is never leased twice while its lease runs.
    public func leaseDue(now: Date, limit: Int, leaseFor: TimeInterval) async throws(StoreError) -> [DeliveryRecord] {
        guard limit >= 1 else { throw .invalidQuery(parameter: "limit", reason: "must be at least 1") }
        guard leaseFor > 0 else { throw .invalidQuery(parameter: "leaseFor", reason: "must be positive") }
        let nowMicros = PostgresRows.micros(now)
        let leaseUntil = PostgresRows.micros(now.addingTimeInterval(leaseFor))
        let logger = logger
        let leased = try await withConnection { connection in
            try await connection.query(
                """
                UPDATE deliveries SET status = 'sending', lease_expires_at_us = \(leaseUntil), attempts = attempts + 1
                WHERE id IN (
                    SELECT id FROM deliveries
                    WHERE (status IN ('queued', 'retrying') AND next_attempt_at_us <= \(nowMicros))
                       OR (status = 'sending' AND lease_expires_at_us <= \(nowMicros))
                    ORDER BY created_at_us, id
                    LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED
                )
                RETURNING *
                """,
                logger: logger
            ).collect().map(PostgresRows.delivery)
        }
        return leased.inLeaseOrder()
    }

    /// The outcome shares its transaction with the accepts and outcomes waiting at the same time
    /// (see `writeBatch`); its audit events are appended at the end of that transaction.
    public func finish(
        id: UUID,
        attempt: Int,
        outcome: DeliveryOutcome,
        audit: [AuditDraft]
    ) async throws(StoreError) -> DeliveryRecord {
        guard
            case .finish(let record) = try await groupCommit.submit(
                .finish(id: id, attempt: attempt, outcome: outcome, audit: audit)
            )
        else { throw StoreError.database("the group commit answered an outcome with another write's result") }
        return record
    }

    /// Records `outcome` of attempt `attempt`. Each UPDATE carries the lease guard
    /// (`status = 'sending' AND attempts = attempt`) and answers the row as updated: the row stays
    /// locked until commit, and a row that a worker on another replica leased again in between fails
    /// the guard (READ COMMITTED re-checks it on the newest version), so the two cannot interleave.
    /// A failed guard writes nothing and throws `leaseLost` (or `deliveryNotFound`).
    static func record(
        _ outcome: DeliveryOutcome,
        id: UUID,
        attempt: Int,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> DeliveryRecord {
        let rows: PostgresRowSequence
        switch outcome {
        case .sent(let reply, let at):
            rows = try await connection.query(
                """
                UPDATE deliveries SET status = 'sent', smtp_reply = \(reply),
                    sent_at_us = \(PostgresRows.micros(at)), lease_expires_at_us = NULL, next_attempt_at_us = NULL,
                    sealed_payload = NULL
                WHERE id = \(id) AND status = 'sending' AND attempts = \(attempt)
                RETURNING *
                """,
                logger: logger
            )
        case .retry(let at, let errorClass, let error, let countsAsAttempt):
            rows = try await connection.query(
                """
                UPDATE deliveries SET status = 'retrying', next_attempt_at_us = \(PostgresRows.micros(at)),
                    last_error_class = \(errorClass.rawValue), last_error = \(error), lease_expires_at_us = NULL,
                    attempts = CASE WHEN \(countsAsAttempt) THEN attempts ELSE GREATEST(attempts - 1, 0) END
                WHERE id = \(id) AND status = 'sending' AND attempts = \(attempt)
                RETURNING *
                """,
                logger: logger
            )
        case .failed(let failure, let errorClass, let error):
            rows = try await connection.query(
                """
                UPDATE deliveries SET status = 'failed', failure = \(failure.rawValue),
                    last_error_class = COALESCE(\(errorClass?.rawValue), last_error_class),
                    last_error = COALESCE(\(error), last_error),
                    lease_expires_at_us = NULL, next_attempt_at_us = NULL,
                    sealed_payload = NULL
                WHERE id = \(id) AND status = 'sending' AND attempts = \(attempt)
                RETURNING *
                """,
                logger: logger
            )
        }
        return try await updated(rows, id: id, connection: connection, logger: logger)
    }

    public func release(id: UUID, attempt: Int) async throws(StoreError) -> DeliveryRecord {
        let logger = logger
        return try await transaction { connection in
            let rows = try await connection.query(
                """
                UPDATE deliveries
                SET status = CASE WHEN attempts > 1 THEN 'retrying' ELSE 'queued' END,
                    attempts = GREATEST(attempts - 1, 0), lease_expires_at_us = NULL
                WHERE id = \(id) AND status = 'sending' AND attempts = \(attempt)
                RETURNING *
                """,
                logger: logger
            )
            return try await Self.updated(rows, id: id, connection: connection, logger: logger)
        }
    }

    /// The row a guarded UPDATE answered or, when the guard failed, why: the delivery is gone, or
    /// no longer in the leased attempt (`leaseLost` with its status).
    private static func updated(
        _ rows: PostgresRowSequence,
        id: UUID,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> DeliveryRecord {
        if let row = try await rows.collect().first { return try PostgresRows.delivery(row) }
        let current = try await connection.query("SELECT status FROM deliveries WHERE id = \(id)", logger: logger)
            .collect().map { try $0.decode(String.self) }
        guard let statusText = current.first else { throw StoreError.deliveryNotFound(id) }
        guard let status = DeliveryStatus(rawValue: statusText) else {
            throw StoreError.corruptRow(table: "deliveries", column: "status")
        }
        throw StoreError.leaseLost(id, status: status)
    }
}
