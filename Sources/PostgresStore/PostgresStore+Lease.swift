import Audit
import Foundation
import Logging
import PostgresNIO
import Store

extension PostgresStore {
    /// `FOR UPDATE SKIP LOCKED`: concurrent leasers on any replica lock disjoint due rows and skip
    /// the ones another holds; a row updated by a leaser that committed first is re-checked against
    /// the condition (READ COMMITTED), so a row is never leased twice while its lease runs.
    public func leaseDue(now: Date, limit: Int, leaseFor: TimeInterval) async throws(StoreError) -> [Delivery] {
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
    ) async throws(StoreError) {
        guard
            case .delivery = try await groupCommit.submit(
                .finish(id: id, attempt: attempt, outcome: outcome, audit: audit),
                kind: .outcome
            )
        else { throw StoreError.database("the group commit answered an outcome with another write's result") }
    }

    /// Records `outcomes` (outcomes of attempts, in id order) in one statement and
    /// answers each, in their order. Each row's update carries the lease guard (`status = 'sending'
    /// AND attempts = attempt`) and answers the row as updated: the rows are locked first, in id
    /// order, and stay locked until commit, and a row that a worker on another replica leased again
    /// in between fails the guard (READ COMMITTED re-checks it on the newest version), so the two
    /// cannot interleave. A failed guard writes nothing and answers `leaseLost` (or
    /// `deliveryNotFound`) for its outcome alone.
    static func record(
        _ outcomes: [(id: UUID, attempt: Int, outcome: DeliveryOutcome)],
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> [Result<Delivery, StoreError>] {
        guard !outcomes.isEmpty else { return [] }
        var binds = PostgresBindings()
        let rows = outcomes.map { id, attempt, outcome in
            let values: [StoreValue?]
            switch outcome {
            case .sent(let reply, let at):
                values = [.text("sent"), .micros(at), .text(reply), nil, nil, nil, .integer(1)]
            case .retry(let at, let errorClass, let error, let countsAsAttempt):
                values = [
                    .text("retrying"), .micros(at), nil, nil, .text(errorClass.rawValue), .text(error),
                    .integer(countsAsAttempt ? 1 : 0),
                ]
            case .failed(let failure, let errorClass, let error):
                values = [
                    .text("failed"), nil, nil, .text(failure.rawValue), errorClass.map { .text($0.rawValue) },
                    error.map(StoreValue.text), .integer(1),
                ]
            }
            return binds.row([.uuid(id), .integer(Int64(attempt))] + values)
        }
        // As the outcomes of one attempt each: `sent` keeps the errors of earlier attempts,
        // `retrying` keeps the sealed payload for the next attempt, `failed` keeps the last error
        // when it brings none.
        let updated = try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    WITH outcome (id, attempt, status, at_us, reply, failure, error_class, error, counts) AS (
                        VALUES \(rows.joined(separator: ", "))
                    ), locked AS (
                        SELECT id FROM deliveries WHERE id IN (SELECT id::uuid FROM outcome) ORDER BY id FOR UPDATE
                    )
                    UPDATE deliveries SET status = outcome.status::text,
                        smtp_reply = CASE WHEN outcome.status = 'sent' THEN outcome.reply::text ELSE deliveries.smtp_reply END,
                        sent_at_us = CASE WHEN outcome.status = 'sent' THEN outcome.at_us::bigint ELSE deliveries.sent_at_us END,
                        next_attempt_at_us = CASE WHEN outcome.status = 'retrying' THEN outcome.at_us::bigint END,
                        lease_expires_at_us = NULL,
                        sealed_payload = CASE WHEN outcome.status = 'retrying' THEN deliveries.sealed_payload END,
                        failure = CASE WHEN outcome.status = 'failed' THEN outcome.failure::text ELSE deliveries.failure END,
                        last_error_class = CASE WHEN outcome.status = 'sent' THEN deliveries.last_error_class
                            ELSE COALESCE(outcome.error_class::text, deliveries.last_error_class) END,
                        last_error = CASE WHEN outcome.status = 'sent' THEN deliveries.last_error
                            ELSE COALESCE(outcome.error::text, deliveries.last_error) END,
                        attempts = CASE WHEN outcome.counts::bigint = 1 THEN deliveries.attempts ELSE GREATEST(deliveries.attempts - 1, 0) END
                    FROM outcome JOIN locked ON locked.id = outcome.id::uuid
                    WHERE deliveries.id = locked.id AND deliveries.status = 'sending'
                    AND deliveries.attempts = outcome.attempt::bigint
                    RETURNING deliveries.*
                    """,
                binds: binds
            ),
            logger: logger
        ).collect().map(PostgresRows.delivery)
        let byID = Dictionary(updated.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let missed = outcomes.map(\.id).filter { byID[$0] == nil }
        let current = try await statuses(missed, connection: connection, logger: logger)
        return outcomes.map { outcome in
            if let record = byID[outcome.id] { return .success(record) }
            return .failure(Self.guardFailure(outcome.id, status: current[outcome.id]))
        }
    }

    /// The statuses of the deliveries `ids` that exist (none read when `ids` is empty).
    private static func statuses(
        _ ids: [UUID],
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> [UUID: String] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await connection.query(
            "SELECT id, status FROM deliveries WHERE id = ANY(\(ids))",
            logger: logger
        )
        .collect().map { try $0.decode((UUID, String).self) }
        return Dictionary(rows, uniquingKeysWith: { first, _ in first })
    }

    /// Why a guarded UPDATE of `id` changed nothing, given its current status (nil: no such row).
    private static func guardFailure(_ id: UUID, status statusText: String?) -> StoreError {
        guard let statusText else { return .deliveryNotFound(id) }
        guard let status = DeliveryStatus(rawValue: statusText) else {
            return .corruptRow(table: "deliveries", column: "status")
        }
        return .leaseLost(id, status: status)
    }
}
