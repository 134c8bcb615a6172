import Audit
import Foundation
import PostgresNIO
import Store
import Synchronization

extension PostgresStore: AuditSequencing {
    /// The events a sequencer round takes at most: one transaction, one commit, one hold of the head.
    static let sequencerBatch = 1000

    /// The event shares its transaction with the writes waiting at the same time (see `writeBatch`);
    /// it is answered unlinked (seq 0, its own HMAC): the sequencer links it later.
    public func appendAudit(_ draft: AuditDraft) async throws(StoreError) -> AuditEvent {
        guard case .audit(let event) = try await groupCommit.submit(.audit(draft), kind: .audit) else {
            throw StoreError.database("the group commit answered an audit append with another write's result")
        }
        return event
    }

    /// Read from the chain's head row, not by scanning the log, after the events written so far are sequenced.
    public func auditHead() async throws(StoreError) -> Int64 {
        try await catchUp()
        let logger = logger
        return try await withConnection { connection in
            let rows = try await connection.query("SELECT seq FROM audit_head", logger: logger)
                .collect().map { try $0.decode(Int64.self) }
            return rows.first ?? 0
        }
    }

    public func auditEvents(afterSeq: Int64, limit: Int) async throws(StoreError) -> [AuditEvent] {
        guard limit >= 1 else { throw .invalidQuery(parameter: "limit", reason: "must be at least 1") }
        try await catchUp()
        let logger = logger
        return try await withConnection { connection in
            try await connection.query(
                "SELECT * FROM audit_events WHERE seq > \(afterSeq) ORDER BY seq LIMIT \(limit)",
                logger: logger
            ).collect().map(PostgresRows.auditEvent)
        }
    }

    public func lastAuditEvent(action: AuditAction) async throws(StoreError) -> AuditEvent? {
        try await catchUp()
        let logger = logger
        return try await withConnection { connection in
            try await connection.query(
                "SELECT * FROM audit_events WHERE action = \(action.rawValue) ORDER BY seq DESC LIMIT 1",
                logger: logger
            ).collect().first.map(PostgresRows.auditEvent)
        }
    }

    public func auditEvents(_ query: AuditQuery) async throws(StoreError) -> Page<AuditEvent> {
        if query.cursor == nil { try await catchUp() }
        return try await page(try query.filter(), decode: PostgresRows.auditEvent, cursor: StoreCursor.after)
    }

    public func sequenceAudit(wait: Bool, limit: Int) async throws(StoreError) -> AuditSequencerRound {
        let (chain, logger, skipping) = (chain, logger, intakeRejections.positions)
        let (round, rejected, lockedAt) = try await transaction { connection in
            try await PostgresAuditLog.sequence(
                wait: wait,
                limit: limit,
                skipping: skipping,
                chain: chain,
                connection: connection,
                logger: logger
            )
        }
        intakeRejections.add(rejected)
        var answer = round
        if let lockedAt {
            answer.held = ContinuousClock.now - lockedAt
            headHolds.record(ContinuousClock.now - lockedAt, events: round.sealed)
        }
        return answer
    }

    public func unsequencedAuditEvents(limit: Int) async throws(StoreError) -> [UnsequencedAuditEvent] {
        let logger = logger
        return try await withConnection { connection in
            try await PostgresAuditLog.intake(limit: limit, skipping: [], connection: connection, logger: logger)
        }
    }

    public var rejectedAuditEvents: [UnsequencedAuditEvent] { intakeRejections.all }

    /// Seals what was written before a read of the log, so that a reader reads its own writes (and
    /// a checkpoint or an export covers them): rounds under the blocking form of the sequencer's
    /// lock until the intake holds nothing this gateway can seal. A read-only store leaves the
    /// intake as it is.
    private func catchUp() async throws(StoreError) {
        guard !readOnly else { return }
        while true {
            let round = try await sequenceAudit(wait: true, limit: Self.sequencerBatch)
            guard round.more, round.sealed > 0 else { return }
        }
    }
}

/// The unsequenced events this process found rewritten: the sequencer leaves them in the intake
/// (evidence) and passes over them from then on.
final class IntakeRejections: Sendable {
    private let found = Mutex<[Int64: UnsequencedAuditEvent]>([:])

    func add(_ rejected: [UnsequencedAuditEvent]) {
        guard !rejected.isEmpty else { return }
        found.withLock { found in
            for entry in rejected { found[entry.position] = entry }
        }
    }

    var positions: [Int64] { found.withLock { Array($0.keys) } }

    /// In arrival order.
    var all: [UnsequencedAuditEvent] { found.withLock { $0.values.sorted { $0.position < $1.position } } }
}
