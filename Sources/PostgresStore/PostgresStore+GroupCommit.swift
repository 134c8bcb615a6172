import Audit
import Foundation
import Logging
import PostgresNIO
import Store
import Synchronization

/// One write of a PostgreSQL group commit.
enum PostgresWrite: Sendable {
    case accept(NewDelivery)
    case finish(id: UUID, attempt: Int, outcome: DeliveryOutcome, audit: [AuditDraft])
    /// One audit event of no delivery (`appendAudit`).
    case audit(AuditDraft)
}

/// What a ``PostgresWrite`` answered.
enum PostgresWritten: Sendable {
    case accept(AcceptResult)
    /// The delivery as an outcome left it.
    case delivery(Delivery)
    case audit(AuditEvent)
}

extension PostgresStore {
    /// The most writes one group commit takes: it bounds how long a batch holds its locks and how
    /// many statements one transaction sends.
    static let maxBatch = 64

    /// Batches written at the same time, each on a pooled connection of its own: one batch's round
    /// trips (claims, inserts) overlap another's, and they meet only at the locks `writeBatch` takes
    /// in one order, so they cannot deadlock. A batch never holds the same key
    /// as another in this process (`AcceptFlights`).
    static let groupCommitWriters = 2

    /// One group commit: `units` in one transaction (`writeBatch`), committed once.
    ///
    /// PostgreSQL aborts a whole transaction when one of its statements fails, and a savepoint per
    /// unit would cost two more round trips per email (and subtransaction IDs). So a unit is kept
    /// from spoiling the others differently: a refusal is decided by reads and writes nothing that
    /// stays (a claim refused for the cooldown is given back), a guard that fails is an UPDATE of no
    /// row; and when a statement does fail (or a unit throws), the batch is rolled back and each
    /// of its units runs again in a transaction of its own, so that the failure stays with its unit.
    /// Losing the connection, on the other hand, fails the whole batch: its commit may or may not
    /// have happened, and no unit may run again.
    static func commit(
        _ units: [PostgresWrite],
        chain: AuditChain,
        client: PostgresClient,
        wait: Duration,
        logger: Logger
    ) async -> GroupCommit<PostgresWrite, PostgresWritten>.Outcome {
        do {
            return .success(
                try await transaction(client: client, wait: wait, logger: logger) { connection in
                    .commit(try await writeBatch(units, chain: chain, connection: connection, logger: logger))
                }
            )
        } catch {
            if case .unavailable = error { return .failure(error) }
            guard units.count > 1 else { return .success([.failure(error)]) }
            var results: [Result<PostgresWritten, StoreError>] = []
            for unit in units {
                switch await commit(
                    [unit],
                    chain: chain,
                    client: client,
                    wait: wait,
                    logger: logger
                ) {
                case .success(let one): results += one
                case .failure(let error): results.append(.failure(error))
                }
            }
            return .success(results)
        }
    }

    /// Writes a batch in the caller's transaction and answers each unit, in the order of `units`.
    ///
    /// Locks are taken in one global order, the same in every transaction of every replica, so that
    /// two batches can wait for each other only one way and never deadlock:
    /// 1. the idempotency keys the accepts claim, in key order (a concurrent claim of the same key
    ///    waits for this transaction, then finds its record);
    /// 2. the cooldown advisory locks, all in one statement, in the order of the lock keys;
    /// 3. the rows of the deliveries whose outcomes are recorded, in id order (leasing skips locked
    ///    rows and waits for none);
    /// 4. none for the audit events: the batch's events are written unlinked, each with its own HMAC,
    ///    into the audit intake by one statement (`PostgresAuditLog.write`), for the sequencer to link
    ///    later; no row every replica shares is locked (a key rotation, at start-up, is the exception).
    ///
    /// Between 2 and 4, each accept that was claimed looks for a recent delivery (the batch's own
    /// earlier inserts included) and is inserted, or refused for its cooldown and its claim given
    /// back. A batch never holds two accepts of one key: `AcceptFlights` runs them one at a time.
    /// Each step is one statement for the whole batch (claims, answers of the keys held by others,
    /// cooldown locks, cooldown looks, give-backs, inserts), so the accepts of a batch cost a fixed
    /// number of round trips however many there are.
    static func writeBatch(
        _ units: [PostgresWrite],
        chain: AuditChain,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> [Result<PostgresWritten, StoreError>] {
        var answers = [Result<PostgresWritten, StoreError>?](repeating: nil, count: units.count)
        var accepts: [(index: Int, new: NewDelivery)] = []
        var changes: [(index: Int, id: UUID, attempt: Int, outcome: DeliveryOutcome)] = []
        for (index, unit) in units.enumerated() {
            switch unit {
            case .accept(let new): accepts.append((index, new))
            case .finish(let id, let attempt, let outcome, _): changes.append((index, id, attempt, outcome))
            case .audit: break
            }
        }

        // 1. Claims, in key order, in one statement.
        accepts.sort {
            ($0.new.idempotency.apiKeyID, $0.new.idempotency.key) < (
                $1.new.idempotency.apiKeyID, $1.new.idempotency.key
            )
        }
        var claimed: [(index: Int, new: NewDelivery)] = []
        let claims = try await claim(accepts.map(\.new), connection: connection, logger: logger)
        for (accept, answer) in zip(accepts, claims) {
            if let answer {
                answers[accept.index] = answer.map(PostgresWritten.accept)
            } else {
                claimed.append(accept)
            }
        }

        // 2. Cooldown locks; then the looks, as in the order of the batch; the refused claims given
        // back and the others inserted, one statement each.
        claimed.sort { $0.index < $1.index }
        try await lockCooldowns(claimed.map(\.new), connection: connection, logger: logger)
        let waits = try await cooldowns(claimed.map(\.new), connection: connection, logger: logger)
        var refused: [NewDelivery] = []
        var admitted: [(index: Int, new: NewDelivery)] = []
        for (accept, wait) in zip(claimed, waits) {
            if let retryAfter = wait {
                refused.append(accept.new)
                answers[accept.index] = .success(.accept(.cooldown(retryAfter: retryAfter)))
            } else {
                admitted.append(accept)
            }
        }
        try await unclaim(refused, connection: connection, logger: logger)
        let inserted = try await insert(admitted.map(\.new), connection: connection, logger: logger)
        var stored: [Int: Delivery] = [:]
        for (index, new) in admitted {
            guard let delivery = inserted[new.delivery.id] else { throw StoreError.deliveryNotFound(new.delivery.id) }
            stored[index] = delivery
        }

        // 3. Outcomes, in id order, in one statement; a failed guard stays with its unit.
        changes.sort { $0.id < $1.id }
        var recorded: [Int: Delivery] = [:]
        let results = try await record(
            changes.map { ($0.id, $0.attempt, $0.outcome) },
            connection: connection,
            logger: logger
        )
        for (change, result) in zip(changes, results) {
            switch result {
            case .success(let record): recorded[change.index] = record
            case .failure(let error): answers[change.index] = .failure(error)
            }
        }

        // 4. The audit events of the batch, in its order, into the intake.
        var drafts: [AuditDraft] = []
        var owners: [Int] = []
        for (index, unit) in units.enumerated() {
            switch unit {
            case .accept(let new):
                guard let delivery = stored[index] else { continue }
                var draft = new.audit
                draft.deliveryID = delivery.id
                drafts.append(draft)
                owners.append(index)
            case .finish(let id, _, _, let audit):
                guard recorded[index] != nil else { continue }
                for var draft in audit {
                    draft.deliveryID = draft.deliveryID ?? id
                    drafts.append(draft)
                    owners.append(index)
                }
            case .audit(let draft):
                drafts.append(draft)
                owners.append(index)
            }
        }
        let events = try await PostgresAuditLog.write(
            drafts,
            chain: chain,
            connection: connection,
            logger: logger
        )
        for (index, event) in zip(owners, events) {
            if let delivery = stored.removeValue(forKey: index) {
                answers[index] = .success(.accept(.accepted(delivery, event: event)))
            } else if case .audit = units[index] {
                answers[index] = .success(.audit(event))
            }
        }
        for (index, record) in recorded { answers[index] = .success(.delivery(record)) }
        let answered = try answers.map { answer in
            guard let answer else { throw StoreError.database("a unit of the group commit was left unanswered") }
            return answer
        }
        return answered
    }
}

/// How long sequencer rounds held the audit head's lock: from the grant to the end of the commit.
/// The head serializes the rounds of every replica (only theirs: requests do not take it), so this
/// time bounds how fast the log is sequenced, not how fast requests are accepted
/// (`benchmarks/replicas.sh` prints it).
final class HeadHolds: Sendable {
    private let state = Mutex((batches: 0, events: 0, held: Duration.zero))

    func record(_ held: Duration, events: Int) {
        state.withLock { state in
            state.batches += 1
            state.events += events
            state.held += held
        }
    }

    /// Rounds that sealed, the events they sealed, and their mean hold (zero when none did).
    var summary: (batches: Int, events: Int, mean: Duration) {
        state.withLock { state in
            (state.batches, state.events, state.batches == 0 ? .zero : state.held / state.batches)
        }
    }
}
