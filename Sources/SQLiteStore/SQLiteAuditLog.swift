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
        // By position: GRDB looks a column up by name with a lower-cased copy of it, per value.
        let seq: Int64 = try head.map { try $0.decode(atIndex: 0) } ?? 0
        let prevHash: String = try head.map { try $0.decode(atIndex: 1) } ?? AuditEvent.genesisHash
        let headKeyID = try head.flatMap { try $0.decode(String?.self, atIndex: 2) }
        try AuditHeadRule.check(draft, headSeq: seq, headKeyID: headKeyID, chain: chain)
        let event = chain.seal(draft, seq: seq + 1, prevHash: prevHash)
        // Typed: `execute(arguments:)` takes an optional, which would pick GRDB's failable `[Any]` initializer.
        let arguments: StatementArguments = StatementArguments(
            AuditEventColumn.allCases.map { SQLiteRows.bind($0.value(of: event)) }
        )
        try db.cachedStatement(sql: insertEvent).execute(arguments: arguments)
        return event
    }

    /// `INSERT INTO audit_events (…) VALUES (?, …)`, built once: the statement cache is keyed by this text.
    private static let insertEvent =
        "INSERT INTO audit_events \(AuditEventColumn.list) VALUES (\(SQLiteRows.placeholders(AuditEventColumn.allCases.count)))"
}

extension SQLiteStore {
    public func appendAudit(_ draft: AuditDraft) async throws(StoreError) -> AuditEvent {
        let chain = chain
        return try await groupWrite(.audit) { db in try SQLiteAuditLog.append(draft, chain: chain, db: db) }
    }

    public func auditEvents(afterSeq: Int64, limit: Int) async throws(StoreError) -> [AuditEvent] {
        guard limit >= 1 else { throw .invalidQuery(parameter: "limit", reason: "must be at least 1") }
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT \(SQLiteRows.auditEventColumns) FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [afterSeq, limit]
            ).map(SQLiteRows.auditEvent)
        }
    }

    public func lastAuditEvent(action: AuditAction) async throws(StoreError) -> AuditEvent? {
        try await read { db in
            try Row.fetchOne(
                db,
                sql:
                    "SELECT \(SQLiteRows.auditEventColumns) FROM audit_events WHERE action = ? ORDER BY seq DESC LIMIT 1",
                arguments: [action.rawValue]
            ).map(SQLiteRows.auditEvent)
        }
    }

    public func auditEvents(_ query: AuditQuery) async throws(StoreError) -> Page<AuditEvent> {
        try await page(
            try query.filter(),
            columns: SQLiteRows.auditEventColumns,
            decode: SQLiteRows.auditEvent,
            cursor: StoreCursor.after
        )
    }
}
