import Audit
import Foundation
import GRDB

extension SQLiteStore {
    public func delivery(id: UUID) async throws(StoreError) -> DeliveryRecord? {
        try await read { db in try Self.fetchDelivery(id, db: db) }
    }

    public func deliveries(_ query: DeliveryQuery) async throws(StoreError) -> Page<DeliveryRecord> {
        try Self.checkLimit(query.limit)
        var clauses: [String] = []
        var values: [(any DatabaseValueConvertible)?] = []
        if let cursor = query.cursor {
            let position = try StoreCursor.parseDelivery(cursor)
            clauses.append("(created_at_us < ? OR (created_at_us = ? AND id < ?))")
            values += [position.createdAtMicros, position.createdAtMicros, position.id]
        }
        if let identityID = query.identityID {
            clauses.append("identity_id = ?")
            values.append(SQLiteRows.text(identityID))
        }
        if let status = query.status {
            clauses.append("status = ?")
            values.append(status.rawValue)
        }
        if let since = query.createdSince {
            clauses.append("created_at_us >= ?")
            values.append(SQLiteRows.micros(since))
        }
        if let until = query.createdUntil {
            clauses.append("created_at_us < ?")
            values.append(SQLiteRows.micros(until))
        }
        values.append(query.limit + 1)
        let sql =
            "SELECT * FROM deliveries"
            + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
            + " ORDER BY created_at_us DESC, id DESC LIMIT ?"
        let arguments = StatementArguments(values)
        let limit = query.limit
        let records = try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map(SQLiteRows.delivery)
        }
        guard records.count > limit else { return Page(items: records, nextCursor: nil) }
        let page = Array(records.prefix(limit))
        let next = page.last.map {
            StoreCursor.delivery(createdAtMicros: SQLiteRows.micros($0.createdAt), id: $0.id)
        }
        return Page(items: page, nextCursor: next)
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
