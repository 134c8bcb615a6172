import Audit
import Foundation
import Logging
import PostgresNIO
import Store

/// The audit log on PostgreSQL: written unlinked on the request path, linked by a sequencer off it
/// (`docs/design/audit-scale-out.md`).
///
/// **The request path** (``write(_:chain:connection:logger:)``) inserts each event into
/// `audit_intake` in the caller's transaction, sealed with its own HMAC under the writer's key
/// (``AuditChain/sealUnlinked(_:id:)``): tamper-evident from its commit, durable before the caller
/// answers, and with no lock that another transaction or replica shares (the intake's `n` comes from
/// a sequence, which is not a lock).
///
/// **The sequencer** (``sequence(wait:limit:chain:connection:logger:)``), one round at a time across
/// every replica (a transaction-scoped advisory lock, taken with `pg_try_advisory_xact_lock` by the
/// background sequencer, which skips the round when another holds it, and with
/// `pg_advisory_xact_lock` by a reader that wants the log up to date), reads the intake in arrival
/// order, checks each event's HMAC with the key it names, seals the good ones into the one chain
/// after the locked `audit_head` row, inserts them into `audit_events` (append-only, the format
/// every export and the offline verifier already read) and deletes them from the intake, all in one
/// transaction. It seals nothing it could not verify: a rewritten event stays in the intake as
/// evidence (``rejected``), and an event under a key this gateway does not hold waits for a gateway
/// that holds it.
///
/// The head row is still locked by every chain append, so two rounds can never fork the chain
/// (`audit_events.seq` is the primary key as well); but only sequencer rounds and the rare key
/// rotation take it, never a request.
enum PostgresAuditLog {
    /// The advisory lock (two-int form, with `PostgresSchema.lockClass`) that elects one sequencer round.
    static let sequencerLock: Int32 = 1

    /// Writes the drafts of a request's transaction: each unlinked into the intake (one statement for
    /// them all), except a key rotation, which is linked into the chain at once (``link(_:chain:connection:logger:)``).
    static func write(
        _ drafts: [AuditDraft],
        chain: AuditChain,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> [AuditEvent] {
        guard !drafts.isEmpty else { return [] }
        var events: [AuditEvent] = []
        var binds = PostgresBindings()
        var rows: [String] = []
        for draft in drafts {
            if draft.action == .auditKeyRotated {
                events += try await link([draft], chain: chain, connection: connection, logger: logger).events
                continue
            }
            let event = chain.sealUnlinked(draft)
            events.append(event)
            rows.append(binds.row(AuditEventColumn.allCases.map { $0.value(of: event) }))
        }
        guard !rows.isEmpty else { return events }
        try await connection.query(
            PostgresQuery(
                unsafeSQL:
                    "INSERT INTO audit_intake \(AuditEventColumn.list) VALUES \(rows.joined(separator: ", "))",
                binds: binds
            ),
            logger: logger
        )
        return events
    }

    /// Seals `drafts` one after the other after the head, in their order, inserts them and moves
    /// the head: one lock of the head and one statement, however many drafts. Answers the events and
    /// when the head's lock was granted (nil: no drafts, no lock).
    static func link(
        _ drafts: [(id: UUID, draft: AuditDraft)],
        chain: AuditChain,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> (events: [AuditEvent], lockedAt: ContinuousClock.Instant?) {
        guard !drafts.isEmpty else { return ([], nil) }
        let (head, lockedAt) = try await lockHead(connection: connection, logger: logger)
        var (seq, prevHash, headKeyID) = head
        var events: [AuditEvent] = []
        events.reserveCapacity(drafts.count)
        var binds = PostgresBindings()
        var rows: [String] = []
        for (id, draft) in drafts {
            try AuditHeadRule.check(draft, headSeq: seq, headKeyID: headKeyID, chain: chain)
            let event = chain.seal(draft, seq: seq + 1, id: id, prevHash: prevHash)
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

    static func link(
        _ drafts: [AuditDraft],
        chain: AuditChain,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> (events: [AuditEvent], lockedAt: ContinuousClock.Instant?) {
        try await link(drafts.map { (UUID(), $0) }, chain: chain, connection: connection, logger: logger)
    }

    /// The head row, locked until the transaction ends, and when the lock was granted.
    private static func lockHead(
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> (head: (Int64, String, String?), lockedAt: ContinuousClock.Instant) {
        let head = try await connection.query("SELECT seq, hash, key_id FROM audit_head FOR UPDATE", logger: logger)
            .collect().map { try $0.decode((Int64, String, String?).self) }
        guard let first = head.first else { throw StoreError.schemaNotMigrated(missing: ["v3_audit_events"]) }
        return (first, ContinuousClock.now)
    }

    /// One sequencer round in the caller's transaction (see the type's comment). `skipping` are the
    /// intake positions already found rewritten; the round answers its own finds in `rejected`, and
    /// when it locked the head (the caller adds the commit to the hold).
    static func sequence(
        wait: Bool,
        limit: Int,
        skipping: [Int64],
        chain: AuditChain,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> (
        round: AuditSequencerRound, rejected: [UnsequencedAuditEvent], lockedAt: ContinuousClock.Instant?
    ) {
        var round = AuditSequencerRound()
        if wait {
            try await connection.query(
                "SELECT 1 FROM (SELECT pg_advisory_xact_lock(\(PostgresSchema.lockClass), \(sequencerLock))) AS elected",
                logger: logger
            )
        } else {
            let elected = try await connection.query(
                "SELECT pg_try_advisory_xact_lock(\(PostgresSchema.lockClass), \(sequencerLock))",
                logger: logger
            ).collect().first?.decode(Bool.self)
            guard elected == true else { return (round, [], nil) }
        }
        round.elected = true
        let waiting = try await intake(limit: limit, skipping: skipping, connection: connection, logger: logger)
        round.more = waiting.count == limit
        var good: [UnsequencedAuditEvent] = []
        var rejected: [UnsequencedAuditEvent] = []
        for entry in waiting {
            switch chain.unlinkedProblem(entry.event) {
            case nil: good.append(entry)
            case .unknownKey: round.waitingForKey += 1
            case .hashMismatch, .notUnlinked: rejected.append(entry)
            }
        }
        guard !good.isEmpty else { return (round, rejected, nil) }
        let lockedAt: ContinuousClock.Instant?
        do {
            (_, lockedAt) = try await link(
                good.map { ($0.event.id, $0.event.draft) },
                chain: chain,
                connection: connection,
                logger: logger
            )
        } catch StoreError.auditKeyMismatch(_, let keyID, _) {
            // The head is on a key this gateway may not seal after (a newer one): nothing was written.
            round.headOnOtherKey = keyID
            return (round, rejected, nil)
        }
        let positions = good.map(\.position)
        try await connection.query("DELETE FROM audit_intake WHERE n = ANY(\(positions))", logger: logger)
        round.sealed = good.count
        return (round, rejected, lockedAt)
    }

    /// Up to `limit` intake events in arrival order, leaving out the positions `skipping`.
    static func intake(
        limit: Int,
        skipping: [Int64],
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> [UnsequencedAuditEvent] {
        try await connection.query(
            "SELECT * FROM audit_intake WHERE NOT (n = ANY(\(skipping))) ORDER BY n LIMIT \(limit)",
            logger: logger
        ).collect().map(PostgresRows.unsequencedAuditEvent)
    }
}
