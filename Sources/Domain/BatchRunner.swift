import Audit
import Foundation
import JSONValue
import Logging
import ServiceLifecycle
import Store
import UUIDText

/// Sends the items of running batches at each batch's pace: every ``tick`` it leases the running
/// batches (one runner per batch among replicas), takes as many pending items as each batch's
/// token bucket allows, and runs each through the single send's accept rules (``AcceptService``)
/// under the idempotency key `batch:<id>:<position>` of the batch's creator, so a crash between
/// accepting an item and recording its outcome replays instead of sending twice.
///
/// Fair to single sends: it adds no item while the queue of deliveries not yet taken by a worker
/// holds half a second of the batch's pace (at least `delivery.workers`), so a single send never
/// waits behind more than that.
///
/// A batch has no more rights than its creator has now: before each chunk the runner looks the
/// creating key up in the running configuration (``keys``). A key that is gone, or no longer has
/// `recovery:send`, pauses its batches (`batch.paused`, actor `system`, the reason shown with the
/// batch); a lost `recovery:send:any-recipient` applies to the next item.
public struct BatchRunner: Service {
    let accept: AcceptService
    let store: any GatewayStore
    let logger: Logger
    let metrics: GatewayMetrics
    /// The scopes the running configuration gives the API key of this name; nil for no such key.
    let keys: @Sendable (String) -> Set<Scope>?
    /// This runner's name in a batch's lease.
    let owner = UUID().lowercasedString

    /// How often the runner looks at its batches while one is running.
    static let tick = Duration.milliseconds(100)
    /// How often it looks for running batches while none is.
    static let idlePoll = Duration.seconds(1)
    /// How long a batch stays with this runner without a renewal.
    static let lease: TimeInterval = 15
    /// Items accepted at once (toward Kratos and the store).
    static let concurrency = 8

    public init(
        accept: AcceptService,
        store: any GatewayStore,
        logger: Logger,
        metrics: GatewayMetrics,
        keys: @escaping @Sendable (String) -> Set<Scope>?
    ) {
        self.accept = accept
        self.store = store
        self.logger = logger
        self.metrics = metrics
        self.keys = keys
    }

    /// The items each batch may still take now, refilled at its rate.
    struct Buckets {
        var tokens: [UUID: Double] = [:]
        var last = ContinuousClock.now

        /// Refills every batch of `batches` for the time since the last call (at most a second's
        /// worth is kept, so a slow tick catches up but a batch that waited does not burst) and
        /// forgets the others.
        mutating func refill(_ batches: [BatchRecord], now: ContinuousClock.Instant) {
            let elapsed = (now - last) / .seconds(1)
            last = now
            var next: [UUID: Double] = [:]
            for batch in batches {
                let rate = Double(batch.rate)
                // A batch seen for the first time gets one tick's worth.
                let earned = tokens[batch.id].map { $0 + rate * elapsed } ?? rate * (BatchRunner.tick / .seconds(1))
                next[batch.id] = min(max(rate, 1), earned)
            }
            tokens = next
        }
    }

    public func run() async throws {
        var buckets = Buckets()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var busy = false
            do {
                busy = try await step(&buckets)
            } catch {
                logger.warning("batch runner: cannot read or record batches", metadata: ["error": "\(error)"])
            }
            let pause = busy ? Self.tick : Self.idlePoll
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
        }
    }

    /// One look at the running batches; true when one is running and Kratos and the store answered
    /// (after an outage the runner waits ``idlePoll`` before it tries again).
    func step(_ buckets: inout Buckets) async throws(StoreError) -> Bool {
        let now = accept.now()
        let batches = try await store.leaseBatches(owner: owner, now: now, leaseFor: Self.lease)
        buckets.refill(batches, now: .now)
        guard !batches.isEmpty else { return false }
        let backlog = try await store.queuedDeliveries(now: now)
        var answered = true
        for batch in batches {
            let room = max(accept.settings.workers, batch.rate / 2) - backlog
            let allowed = min(Int(buckets.tokens[batch.id] ?? 0), room, BatchIngest.chunkSize)
            guard allowed > 0 else { continue }
            let (taken, waiting) = try await send(batch, limit: allowed)
            buckets.tokens[batch.id, default: 0] -= Double(taken)
            if waiting { answered = false }
        }
        return answered
    }

    /// Accepts up to `limit` pending items of `batch` and records their outcomes; answers how many
    /// got one, and whether an outage (Kratos or the store) left some pending for later.
    func send(_ batch: BatchRecord, limit: Int) async throws(StoreError) -> (taken: Int, waiting: Bool) {
        guard let caller = try await creator(of: batch) else { return (0, false) }
        let items = try await store.pendingBatchItems(batchID: batch.id, limit: limit)
        guard !items.isEmpty else {
            // Nothing pending (all invalid, or the last items recorded while it was paused): done.
            try await store.recordBatchItems(batchID: batch.id, [], at: accept.now())
            return (0, false)
        }
        let request: RecoveryBatch
        do {
            request = try RecoveryBatch(fields: try Self.fields(batch.common))
        } catch {
            // The fields were checked when the batch was made: only a hand-edited row gets here.
            throw .corruptRow(table: "recovery_batches", column: "common")
        }
        let results = await withTaskGroup(of: BatchItemRecord?.self) { group in
            var results: [BatchItemRecord] = []
            var running = 0
            for item in items {
                if running == Self.concurrency, let result = await group.next() {
                    if let result { results.append(result) }
                    running -= 1
                }
                group.addTask { await outcome(of: item, in: batch, request: request, caller: caller) }
                running += 1
            }
            for await result in group { if let result { results.append(result) } }
            return results
        }
        let waiting = results.count < items.count
        guard !results.isEmpty else { return (0, waiting) }
        try await store.recordBatchItems(batchID: batch.id, results, at: accept.now())
        for result in results { metrics.count(.batchItems, [("outcome", result.outcome.rawValue)]) }
        return (results.count, waiting)
    }

    /// The caller the items of `batch` are accepted for: its creator with the scopes it had at
    /// creation and still has now. Nil when the creating key is gone or may no longer send: then
    /// the batch is paused, with the reason and a `batch.paused` event.
    func creator(of batch: BatchRecord) async throws(StoreError) -> Caller? {
        let problem: String
        if let scopes = keys(batch.apiKeyID) {
            if scopes.contains(.send) {
                let anyRecipient = batch.anyRecipient && scopes.contains(.sendAnyRecipient)
                return Caller(
                    name: batch.apiKeyID,
                    scopes: anyRecipient ? [.send, .sendAnyRecipient] : [.send],
                    sourceIP: batch.sourceIP,
                    requestID: batch.requestID
                )
            }
            problem = "the API key \(batch.apiKeyID) that created the batch no longer has \(Scope.send.rawValue)"
        } else {
            problem = "the API key \(batch.apiKeyID) that created the batch is no longer configured"
        }
        let now = accept.now()
        let audit = AuditDraft(
            at: now,
            actor: "system",
            action: .batchPaused,
            outcome: BatchStatus.paused.rawValue,
            details: ["batch_id": batch.id.lowercasedString, "reason": problem]
        )
        let paused = try await store.changeBatchStatus(
            id: batch.id,
            from: [.running],
            to: .paused,
            at: now,
            reason: problem,
            audit: audit
        )
        if paused != nil {
            logger.warning(
                "batch runner: a batch is paused",
                metadata: ["batch_id": "\(batch.id.lowercasedString)", "reason": "\(problem)"]
            )
        }
        return nil
    }

    /// The outcome of one item, or nil when Kratos or the store did not answer, or the batch was
    /// paused or cancelled meanwhile (the store refused the item's delivery): the item stays
    /// pending (or is the cancel's).
    func outcome(
        of item: BatchItemRecord,
        in batch: BatchRecord,
        request: RecoveryBatch,
        caller: Caller
    ) async -> BatchItemRecord? {
        var result = BatchItemRecord(position: item.position, item: item.item, outcome: .invalid)
        do throws(AcceptRefusal) {
            guard let text = item.item, let value = try? JSONValue(parsing: Array(text.utf8)) else {
                throw AcceptRefusal.invalid(RequestError(field: "item", message: "is not JSON"))
            }
            let single = try Self.request(request, item: value)
            let answer = try await accept.accept(
                single,
                requestHash: AcceptService.hash(.array([.string(batch.id.uuidString), .string(text)])),
                idempotencyKey: batch.itemKey(position: item.position),
                caller: caller,
                batch: batch.id
            )
            result.outcome = .accepted
            result.deliveryID = answer.deliveryID
            result.identityID = answer.identityID
            result.recipientMasked = answer.recipientMasked
        } catch .keyReused {
            result.reason = "its idempotency key batch:<id>:<position> was used by another request"
        } catch .storeUnavailable(.batchNotRunning) {
            return nil
        } catch {
            guard let (finding, reason) = error.itemFinding else {
                logger.warning(
                    "batch runner: an item waits for Kratos or the store",
                    metadata: [
                        "batch_id": "\(batch.id.lowercasedString)", "position": "\(item.position)",
                        "error": "\(error)",
                    ]
                )
                return nil
            }
            result.outcome = BatchItemOutcome(rawValue: finding.rawValue) ?? .invalid
            result.reason = reason
        }
        return result
    }

    private static func request(_ batch: RecoveryBatch, item: JSONValue) throws(AcceptRefusal) -> RecoveryEmailRequest {
        do {
            return try batch.request(for: item)
        } catch {
            throw .invalid(error)
        }
    }

    private static func fields(_ common: String) throws -> [String: JSONValue] {
        guard case .object(let fields) = try JSONValue(parsing: Array(common.utf8)) else {
            throw StoreError.corruptRow(table: "recovery_batches", column: "common")
        }
        return fields
    }
}
