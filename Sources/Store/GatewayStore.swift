import Audit
import Foundation

/// The durable state of the gateway: the delivery outbox, idempotency records and the audit log.
///
/// Implementations (SQLite now, PostgreSQL later) pass the same contract test suite. No method
/// takes or returns a recovery link, code or API key. The accept path's part is ``AcceptStore``,
/// the batches' ``BatchStore``, the console's ``ConsoleSessionStore``.
public protocol GatewayStore: AcceptStore, BatchStore, ConsoleSessionStore {
    /// Creates or upgrades the schema; idempotent. Throws `schemaTooNew` on a newer schema.
    func migrate() async throws(StoreError)

    /// Checks that the store answers (for readiness).
    func ping() async throws(StoreError)

    /// Atomically leases up to `limit` due deliveries: `queued`/`retrying` with
    /// `nextAttemptAt <= now`, or `sending` whose lease expired. Marks them `sending`, sets
    /// `leaseExpiresAt = now + leaseFor` and counts the attempt. Oldest due first.
    func leaseDue(now: Date, limit: Int, leaseFor: TimeInterval) async throws(StoreError) -> [Delivery]

    /// Records the outcome of attempt number `attempt` of a leased (`sending`) delivery and appends
    /// `audit` in one transaction. Throws `leaseLost` when the delivery is no longer in that
    /// attempt (its lease ran out and another worker took it over). It answers nothing: the worker
    /// knows the outcome it recorded, and whoever needs the whole record reads it (``delivery(id:)``),
    /// which spares every outcome a read and a decoding of its row.
    func finish(
        id: UUID,
        attempt: Int,
        outcome: DeliveryOutcome,
        audit: [AuditDraft]
    ) async throws(StoreError)

    func delivery(id: UUID) async throws(StoreError) -> Delivery?

    func deliveries(_ query: DeliveryQuery) async throws(StoreError) -> Page<Delivery>

    func auditEvents(_ query: AuditQuery) async throws(StoreError) -> Page<AuditEvent>

    /// The sequence number of the audit log's last event (0 when the log is empty).
    func auditHead() async throws(StoreError) -> Int64

    /// Up to `limit` events with `seq > afterSeq`, ascending: the whole log in batches for export.
    func auditEvents(afterSeq: Int64, limit: Int) async throws(StoreError) -> [AuditEvent]

    /// The newest event whose action is `action` (read backwards from the head), if any.
    func lastAuditEvent(action: AuditAction) async throws(StoreError) -> AuditEvent?

    /// Deletes idempotency records that expired before `before`; returns how many.
    func purgeIdempotency(before: Date) async throws(StoreError) -> Int

    func stats() async throws(StoreError) -> StoreStats

    /// Lets go of the store's connections; nothing may be asked of it afterwards. A store whose
    /// connections close with it (SQLite's pool) does nothing here.
    func close() async
}

extension GatewayStore {
    public func close() async {}
}

extension GatewayStore {
    /// Reads the whole log in batches and checks it against `chain`.
    public func verifyAudit(chain: AuditChain, batchSize: Int = 1000) async throws(StoreError) -> AuditVerification {
        try await verifyAudit(after: 0, verifier: chain.verifier(), batchSize: batchSize)
    }

    /// Checks the last `count` events (the whole log when `count` is 0 or the log is no longer)
    /// against `chain`, up to and including the head: the first of them is trusted to link to the
    /// event before it, each one's HMAC and the links after it are checked. The start-up key check.
    public func verifyAuditTail(chain: AuditChain, count: Int) async throws(StoreError) -> AuditVerification {
        let after = count == 0 ? 0 : max(0, try await auditHead() - Int64(count))
        guard after > 0, let first = try await auditEvents(afterSeq: after, limit: 1).first else {
            return try await verifyAudit(chain: chain)
        }
        return try await verifyAudit(
            after: after,
            verifier: chain.verifier(after: after, prevHash: first.prevHash),
            batchSize: 1000
        )
    }

    private func verifyAudit(
        after start: Int64,
        verifier: AuditVerifier,
        batchSize: Int
    ) async throws(StoreError) -> AuditVerification {
        var verifier = verifier
        var after = start
        while true {
            let batch = try await auditEvents(afterSeq: after, limit: batchSize)
            for event in batch where !verifier.feed(event) {
                return verifier.result
            }
            guard let last = batch.last, batch.count == batchSize else { return verifier.result }
            after = last.seq
        }
    }
}
