import Audit
import Foundation
import GRDB
import Store

extension SQLiteStore {
    public func delivery(id: UUID) async throws(StoreError) -> Delivery? {
        try await read { db in try Self.fetchDelivery(id, db: db) }
    }

    public func deliveries(_ query: DeliveryQuery) async throws(StoreError) -> Page<Delivery> {
        try await page(
            try query.filter(),
            columns: SQLiteRows.deliveryColumns(),
            decode: SQLiteRows.delivery,
            cursor: StoreCursor.after
        )
    }

    public func auditHead() async throws(StoreError) -> Int64 {
        try await read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM audit_events") ?? 0 }
    }

    public func purgeIdempotency(before: Date) async throws(StoreError) -> Int {
        try await write { db in
            try db.execute(
                sql: "DELETE FROM idempotency_records WHERE expires_at_us < ?",
                arguments: [SQLiteRows.micros(before)]
            )
            return db.changesCount
        }
    }

    public func stats() async throws(StoreError) -> StoreStats {
        try await read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT
                        COALESCE(SUM(status IN ('queued', 'retrying')), 0) AS waiting,
                        COALESCE(SUM(status = 'sending'), 0) AS sending,
                        MIN(CASE WHEN status IN ('queued', 'retrying') THEN created_at_us END) AS oldest
                    FROM deliveries
                    """
            )
            let oldest: Int64? = try row?.decode(forColumn: "oldest")
            return StoreStats(
                waiting: try row?.decode(forColumn: "waiting") ?? 0,
                sending: try row?.decode(forColumn: "sending") ?? 0,
                oldestWaitingCreatedAt: oldest.map { AuditTime.date(microseconds: $0) }
            )
        }
    }
}

extension SQLiteStore {
    public func latestDelivery(identityID: UUID, recipient: String, since: Date) async throws(StoreError) -> Date? {
        try await read { db in
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT MAX(created_at_us) FROM deliveries
                    WHERE identity_id = ? AND recipient = ? COLLATE NOCASE AND created_at_us > ?
                    """,
                arguments: [SQLiteRows.text(identityID), recipient, SQLiteRows.micros(since)]
            ).map(AuditTime.date(microseconds:))
        }
    }
}
