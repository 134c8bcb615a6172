import Audit
import Foundation
import PostgresNIO
import Store

extension PostgresStore {
    public func delivery(id: UUID) async throws(StoreError) -> Delivery? {
        let logger = logger
        return try await withConnection { connection in
            try await Self.fetchDelivery(id, connection: connection, logger: logger)
        }
    }

    public func deliveries(_ query: DeliveryQuery) async throws(StoreError) -> Page<Delivery> {
        try await page(try query.filter(), decode: PostgresRows.delivery, cursor: StoreCursor.after)
    }

    public func purgeIdempotency(before: Date) async throws(StoreError) -> Int {
        let logger = logger
        return try await withConnection { connection in
            let counts = try await connection.query(
                """
                WITH purged AS (
                    DELETE FROM idempotency_records WHERE expires_at_us < \(PostgresRows.micros(before)) RETURNING 1
                )
                SELECT count(*) FROM purged
                """,
                logger: logger
            ).collect().map { try $0.decode(Int64.self) }
            return Int(counts.first ?? 0)
        }
    }

    public func stats() async throws(StoreError) -> StoreStats {
        let logger = logger
        return try await withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT
                    count(*) FILTER (WHERE status IN ('queued', 'retrying')),
                    count(*) FILTER (WHERE status = 'sending'),
                    MIN(created_at_us) FILTER (WHERE status IN ('queued', 'retrying'))
                FROM deliveries
                """,
                logger: logger
            ).collect().map { try $0.decode((Int64, Int64, Int64?).self) }
            guard let (waiting, sending, oldest) = rows.first else {
                return StoreStats(waiting: 0, sending: 0, oldestWaitingCreatedAt: nil)
            }
            return StoreStats(
                waiting: Int(waiting),
                sending: Int(sending),
                oldestWaitingCreatedAt: oldest.map { AuditTime.date(microseconds: $0) }
            )
        }
    }
}

extension PostgresStore {
    public func latestDelivery(identityID: UUID, recipient: String, since: Date) async throws(StoreError) -> Date? {
        let logger = logger
        return try await withConnection { connection in
            let latest = try await connection.query(
                """
                SELECT MAX(created_at_us) FROM deliveries
                WHERE identity_id = \(identityID) AND lower(recipient) = lower(\(recipient))
                AND created_at_us > \(PostgresRows.micros(since))
                """,
                logger: logger
            ).collect().map { try $0.decode(Int64?.self) }
            return (latest.first ?? nil).map(AuditTime.date(microseconds:))
        }
    }
}
