import Audit
import Foundation
import GRDB
import Store

/// Appends to and reads from the `audit_events` table inside a caller's transaction.
enum SQLiteAuditLog {
    /// Seals `draft` after the current head and inserts it, once ``AuditHeadRule`` allows it. Must run
    /// in a write transaction, which makes the read of the head and the insert atomic.
    static func append(_ draft: AuditDraft, chain: AuditChain, db: Database) throws -> AuditEvent {
        let head = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT seq, hash, key_id FROM audit_events ORDER BY seq DESC LIMIT 1")
        )
        let seq: Int64 = try head.map { try $0.decode(forColumn: "seq") } ?? 0
        let prevHash: String = try head.map { try $0.decode(forColumn: "hash") } ?? AuditEvent.genesisHash
        let headKeyID = try head.flatMap { try $0.decode(String?.self, forColumn: "key_id") }
        try AuditHeadRule.check(draft, headSeq: seq, headKeyID: headKeyID, chain: chain)
        let event = chain.seal(draft, seq: seq + 1, prevHash: prevHash)
        let columns = AuditEventColumn.allCases
        let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        // Typed: `execute(arguments:)` takes an optional, which would pick GRDB's failable `[Any]` initializer.
        let arguments: StatementArguments = StatementArguments(columns.map { SQLiteRows.bind($0.value(of: event)) })
        try db.cachedStatement(sql: "INSERT INTO audit_events \(AuditEventColumn.list) VALUES (\(placeholders))")
            .execute(arguments: arguments)
        return event
    }
}

extension SQLiteStore {
    public func appendAudit(_ draft: AuditDraft) async throws(StoreError) -> AuditEvent {
        let chain = chain
        return try await groupWrite { db in try SQLiteAuditLog.append(draft, chain: chain, db: db) }
    }

    public func auditEvents(afterSeq: Int64, limit: Int) async throws(StoreError) -> [AuditEvent] {
        guard limit >= 1 else { throw .invalidQuery(parameter: "limit", reason: "must be at least 1") }
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [afterSeq, limit]
            ).map(SQLiteRows.auditEvent)
        }
    }

    public func lastAuditEvent(action: AuditAction) async throws(StoreError) -> AuditEvent? {
        try await read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT * FROM audit_events WHERE action = ? ORDER BY seq DESC LIMIT 1",
                arguments: [action.rawValue]
            ).map(SQLiteRows.auditEvent)
        }
    }

    public func auditEvents(_ query: AuditQuery) async throws(StoreError) -> Page<AuditEvent> {
        try await page(try query.filter(), decode: SQLiteRows.auditEvent, cursor: StoreCursor.after)
    }
}
