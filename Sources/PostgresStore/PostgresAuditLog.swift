import Audit
import Foundation
import Logging
import PostgresNIO
import Store

/// Appends to the `audit_events` table inside a caller's transaction.
///
/// One chain across replicas: every append first locks the single `audit_head` row
/// (`SELECT … FOR UPDATE`), seals the event after the head it read, inserts it and moves the head,
/// all in the caller's transaction. A concurrent appender on any replica waits on that row lock
/// until the transaction commits or rolls back, then reads the new head (READ COMMITTED re-reads
/// the locked row's newest version), so no two events ever get the same `seq` or `prevHash`
/// (no fork), and a rolled-back transaction takes its seq with it (no gap). The head row also holds
/// the head's `key_id`, which ``AuditHeadRule`` checks before the append (no gateway appends after
/// another key's event).
///
/// Why a head row rather than an advisory lock around `MAX(seq)`: the lock and the state it
/// protects are the same row, so no writer can forget the lock and still append (the head's
/// `seq` is what the next insert uses, and `audit_events.seq` is the primary key, so a writer
/// that skipped the lock would fail on the key rather than fork the chain); it also costs one
/// indexed row read instead of a `MAX` scan, and it shows in `pg_locks` as an ordinary row lock.
/// The price, the same with any choice, is that appends serialize: every transaction that appends
/// holds the head from its append to its commit. Appends are therefore the last step of each
/// transaction, so the head is held as briefly as possible, and a group commit appends the events
/// of its whole batch at once: the head is locked once per batch, not once per email.
enum PostgresAuditLog {
    /// Seals `drafts` one after the other after the head, in their order, and inserts them and moves
    /// the head: one lock of the head and one statement, however many drafts (a group commit's).
    /// Answers the events and when the head's lock was granted (nil: no drafts, no lock).
    static func append(
        _ drafts: [AuditDraft],
        chain: AuditChain,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> (events: [AuditEvent], lockedAt: ContinuousClock.Instant?) {
        guard !drafts.isEmpty else { return ([], nil) }
        let head = try await connection.query("SELECT seq, hash, key_id FROM audit_head FOR UPDATE", logger: logger)
            .collect().map { try $0.decode((Int64, String, String?).self) }
        let lockedAt = ContinuousClock.now
        guard var (seq, prevHash, headKeyID) = head.first else {
            throw StoreError.schemaNotMigrated(missing: ["v3_audit_events"])
        }
        var events: [AuditEvent] = []
        events.reserveCapacity(drafts.count)
        var binds = PostgresBindings()
        var rows: [String] = []
        for draft in drafts {
            try AuditHeadRule.check(draft, headSeq: seq, headKeyID: headKeyID, chain: chain)
            let event = chain.seal(draft, seq: seq + 1, prevHash: prevHash)
            (seq, prevHash, headKeyID) = (event.seq, event.hash, event.keyID)
            events.append(event)
            rows.append(binds.row(AuditEventColumn.allCases.map { $0.value(of: event) }))
        }
        // The events and the new head in one statement (one round trip).
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    WITH event AS (
                        INSERT INTO audit_events \(AuditEventColumn.list) VALUES \(rows.joined(separator: ", "))
                        RETURNING seq, hash, key_id
                    )
                    UPDATE audit_head SET seq = last.seq, hash = last.hash, key_id = last.key_id
                    FROM (SELECT seq, hash, key_id FROM event ORDER BY seq DESC LIMIT 1) AS last
                    """,
                binds: binds
            ),
            logger: logger
        )
        return (events, lockedAt)
    }
}

extension PostgresStore {
    /// The event shares its transaction with the writes waiting at the same time (see `writeBatch`).
    public func appendAudit(_ draft: AuditDraft) async throws(StoreError) -> AuditEvent {
        guard case .audit(let event) = try await groupCommit.submit(.audit(draft)) else {
            throw StoreError.database("the group commit answered an audit append with another write's result")
        }
        return event
    }

    public func auditEvents(afterSeq: Int64, limit: Int) async throws(StoreError) -> [AuditEvent] {
        guard limit >= 1 else { throw .invalidQuery(parameter: "limit", reason: "must be at least 1") }
        let logger = logger
        return try await withConnection { connection in
            try await connection.query(
                "SELECT * FROM audit_events WHERE seq > \(afterSeq) ORDER BY seq LIMIT \(limit)",
                logger: logger
            ).collect().map(PostgresRows.auditEvent)
        }
    }

    public func lastAuditEvent(action: AuditAction) async throws(StoreError) -> AuditEvent? {
        let logger = logger
        return try await withConnection { connection in
            try await connection.query(
                "SELECT * FROM audit_events WHERE action = \(action.rawValue) ORDER BY seq DESC LIMIT 1",
                logger: logger
            ).collect().first.map(PostgresRows.auditEvent)
        }
    }

    public func auditEvents(_ query: AuditQuery) async throws(StoreError) -> Page<AuditEvent> {
        try await page(try query.filter(), decode: PostgresRows.auditEvent, cursor: StoreCursor.after)
    }
}
