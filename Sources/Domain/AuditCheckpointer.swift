import Audit
import Foundation
import Logging
import ServiceLifecycle
import Store

/// Appends a signed `audit.checkpoint` event (``AuditCheckpoint``) every `everyEvents` events or
/// every `interval`, whichever comes first, when events came since the last checkpoint. It keeps
/// the running ``AuditDigest``: at start from the newest checkpoint its key signed (the digest and
/// head it states), reading only the events after what that covers (from seq 1 when there is none),
/// then each new event.
///
/// A checkpoint vouches only for what the audit key sealed: each event is checked (its HMAC with the
/// key it names, its link, the key rotations: ``AuditChain/verifier(after:prevHash:)``, resuming
/// where the last checkpoint left off) before it is folded into the digest. At the first event that
/// does not verify, the checkpointer stops: it signs nothing past it, and the ``AuditAlarm`` logs the
/// seq, counts it and makes `/health/ready` fail. An event sealed by a key this gateway does not hold
/// (a newer key, while replicas are restarted one by one) is not a break: the checkpointer stops
/// there with a warning and leaves the signing to a gateway that holds it.
/// Replicas on one database each write their own: a redundant checkpoint is harmless and verifies.
public struct AuditCheckpointer: Service {
    let store: any GatewayStore
    let key: AuditSigningKey
    let chain: AuditChain
    let alarm: AuditAlarm
    let everyEvents: Int
    let interval: Duration
    let logger: Logger

    /// Events read per query.
    static let batchSize = 1000

    public init(
        store: any GatewayStore,
        key: AuditSigningKey,
        chain: AuditChain,
        alarm: AuditAlarm,
        everyEvents: Int,
        interval: Duration,
        logger: Logger
    ) {
        self.store = store
        self.key = key
        self.chain = chain
        self.alarm = alarm
        self.everyEvents = everyEvents
        self.interval = interval
        self.logger = logger
    }

    /// What the checkpointer knows of the log so far.
    struct State {
        var seq: Int64 = 0
        var head = AuditEvent.genesisHash
        var digest = AuditDigest()
        /// The seqs of events other than checkpoints that no checkpoint covers yet, ascending. A
        /// checkpoint covers the events up to its own `seq`, which can be lower than the seq it
        /// lands at: another replica's event may come between reading the log and appending.
        var uncovered: [Int64] = []
        var lastCheckpoint = Date()
        /// Checks each event before it counts (from the genesis, or after the resumed checkpoint).
        var verifier: AuditVerifier
        /// Set at the first event that does not verify: nothing from it on is read or signed.
        var stopped = false

        init(chain: AuditChain) {
            verifier = chain.verifier()
        }
    }

    public func run() async throws {
        // A store failure here only costs reading the log from seq 1 instead.
        var state = (try? await resume()) ?? State(chain: chain)
        // Look for new events often enough to keep to `everyEvents`, but not more than once a second.
        let poll = min(interval, .seconds(1))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await step(&state, now: Date())
            } catch {
                logger.warning("cannot write an audit checkpoint", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: poll) }
        }
    }

    /// The state at the newest checkpoint signed by this checkpointer's key: the seq it covers, its
    /// head and digest, trusted on the signature's word (nobody without the signing key can make
    /// one); the empty state (read from seq 1) when there is none, or it is another key's.
    func resume() async throws(StoreError) -> State {
        var state = State(chain: chain)
        guard let event = try await store.lastAuditEvent(action: .auditCheckpoint),
            let checkpoint = try? AuditCheckpoint(details: event.details),
            checkpoint.isSigned(by: key.publicKey),
            let digest = AuditDigest(hex: checkpoint.digest)
        else { return state }
        state.seq = checkpoint.seq
        state.head = checkpoint.head
        state.digest = digest
        state.verifier = chain.verifier(after: checkpoint.seq, prevHash: checkpoint.head)
        return state
    }

    /// Reads the events after `state.seq`; appends a checkpoint when one is due at `now`.
    func step(_ state: inout State, now: Date) async throws(StoreError) {
        reading: while !state.stopped {
            let batch = try await store.auditEvents(afterSeq: state.seq, limit: Self.batchSize)
            for event in batch {
                guard state.verifier.feed(event) else {
                    stop(&state)
                    break reading
                }
                state.digest.add(event)
                state.seq = event.seq
                state.head = event.hash
                if event.action == .auditCheckpoint {
                    // Another writer's malformed checkpoint covers nothing; the next one will.
                    guard let covered = try? AuditCheckpoint(details: event.details).seq else { continue }
                    state.uncovered.removeAll { $0 <= covered }
                    state.lastCheckpoint = max(state.lastCheckpoint, event.at)
                } else {
                    state.uncovered.append(event.seq)
                }
            }
            guard batch.count == Self.batchSize else { break }
        }
        let elapsed = Duration.seconds(now.timeIntervalSince(state.lastCheckpoint))
        let pending = state.uncovered.count
        guard pending >= everyEvents || (pending > 0 && elapsed >= interval) else { return }
        let checkpoint = AuditCheckpoint(seq: state.seq, digest: state.digest, head: state.head, at: now, key: key)
        _ = try await store.appendAudit(
            AuditDraft(at: now, actor: "system", action: .auditCheckpoint, details: checkpoint.details)
        )
        state.uncovered.removeAll()
        state.lastCheckpoint = now
    }

    /// Stops at the event the verifier refused: an alarm for a break, a warning for a key not held.
    private func stop(_ state: inout State) {
        state.stopped = true
        guard case .broken(let seq, let reason) = state.verifier.result else { return }
        if case .unknownKey(_, let keyID) = reason {
            logger.warning(
                "audit checkpoints stop: the log goes on under an audit key this gateway does not hold",
                metadata: ["seq": "\(seq)", "key_id": "\(keyID)"]
            )
            return
        }
        alarm.raise(AuditAlarm.Break(seq: seq, reason: reason.description), by: "checkpointer", logger: logger)
    }
}
