import Audit
import Foundation
import Store
import Synchronization

/// `GET /v1/audit-events/verify` and the console's verify: checks the log with the audit key from
/// the newest checkpoint the gateways' signing key signed (the checkpointer verified every event it
/// covers before signing: ``AuditCheckpointer``), or from seq 1 when there is none, to the head;
/// and the events not sequenced yet, each by its own HMAC. An edit before that checkpoint breaks its
/// signed digest, which the whole-log checks find: `recovery-gateway audit verify`, or the offline
/// verifier on an export.
///
/// It reads the store, so it is rate limited: one verification at a time in this process, and a
/// token bucket per caller.
public final class AuditOnlineVerifier: Sendable {
    /// Why a verification was not run.
    public enum Refusal: Error, Sendable, Hashable {
        /// Another verification is running, or the caller asked too often; try again after this.
        case tooSoon(retryAfter: Duration)
    }

    let store: any GatewayStore
    let chain: AuditChain
    let signer: AuditPublicKey
    private let limiter: RateLimiter
    private let running = Mutex(false)

    /// Events read per query.
    static let batchSize = 1000

    /// - Parameters:
    ///   - signer: the checkpoints' signing key, whose newest checkpoint a verification resumes from.
    ///   - rate: verifications a second per caller on average, in bursts of up to `burst`.
    public init(
        store: any GatewayStore,
        chain: AuditChain,
        signer: AuditPublicKey,
        rate: Double = 0.2,
        burst: Int = 3
    ) {
        self.store = store
        self.chain = chain
        self.signer = signer
        limiter = RateLimiter(rate: rate, burst: burst)
    }

    /// Verifies the log for `caller` (its name keys the rate limit).
    public func verify(caller: String) async throws -> AuditOnlineVerification {
        if let wait = limiter.take(caller) { throw Refusal.tooSoon(retryAfter: wait) }
        let started = running.withLock { running in
            defer { running = true }
            return !running
        }
        guard started else { throw Refusal.tooSoon(retryAfter: .seconds(1)) }
        defer { running.withLock { $0 = false } }
        var answer = try await verifyChain()
        if let sequencing = store as? any AuditSequencing {
            let waiting = try await sequencing.unsequencedAuditEvents(limit: Self.batchSize)
            answer.unsequenced = waiting.count
            answer.rejected =
                waiting.lazy.compactMap { entry in
                    self.chain.unlinkedProblem(entry.event).map {
                        AuditOnlineVerification.Rejected(entry: entry, problem: $0)
                    }
                }.first
        }
        return answer
    }

    /// The chain from the newest signed checkpoint's seq to the head.
    private func verifyChain() async throws -> AuditOnlineVerification {
        let start = try await resumePoint()
        var verifier =
            start.seq == 0 ? chain.verifier() : chain.verifier(after: start.seq, prevHash: start.head)
        var after = start.seq
        reading: while true {
            let batch = try await store.auditEvents(afterSeq: after, limit: Self.batchSize)
            for event in batch where !verifier.feed(event) { break reading }
            guard let last = batch.last, batch.count == Self.batchSize else { break }
            after = last.seq
        }
        var answer = AuditOnlineVerification(result: verifier.result, resumedAfter: start.seq)
        if case .ok(let events, let head) = verifier.result {
            answer.result = .ok(events: Int(start.seq) + events, head: head)
        }
        return answer
    }

    /// Where to start: the seq the newest checkpoint covers and its head, when `signer` signed it;
    /// else seq 0 and the genesis hash.
    private func resumePoint() async throws -> (seq: Int64, head: String) {
        guard let event = try await store.lastAuditEvent(action: .auditCheckpoint),
            let checkpoint = try? AuditCheckpoint(details: event.details), checkpoint.isSigned(by: signer)
        else { return (0, AuditEvent.genesisHash) }
        return (checkpoint.seq, checkpoint.head)
    }
}

/// What an online verification found.
public struct AuditOnlineVerification: Sendable, Hashable {
    /// An unsequenced event whose own HMAC does not verify, or that names a key this gateway does not
    /// hold (another gateway's key: this one cannot vouch for it).
    public struct Rejected: Sendable, Hashable {
        public var entry: UnsequencedAuditEvent
        public var problem: AuditUnlinkedProblem
    }

    /// The chain's verdict; `events` counts the whole chain (the part resumed over included).
    public var result: AuditVerification
    /// The seq the check resumed after, the newest signed checkpoint's (0: from the start).
    public var resumedAfter: Int64
    /// Events written but not sequenced yet (at most the first page of them).
    public var unsequenced = 0
    /// The first of them that does not verify.
    public var rejected: Rejected?

    /// Whether the chain and every unsequenced event verify.
    public var isOK: Bool { result.isOK && rejected == nil }
}
