import Audit
import Foundation
import JSONValue
import Logging
import Mail
import RFC3339
import ServiceLifecycle
import Store
import Synchronization
import Templates
import UUIDText

/// The delivery worker: leases due deliveries, runs up to `delivery.workers` attempts at once (each
/// composed and sent by the ``DeliveryDispatcher``), records each outcome (sent, retry later,
/// failed) once with its one audit event, and takes back the
/// deliveries of a crashed worker once their lease runs out. On graceful shutdown it stops
/// leasing and lets the attempts in flight finish (each is bounded by the Kratos and SMTP
/// timeouts); nothing it had leased is left behind.
public struct DeliveryWorker: Service {
    let settings: GatewaySettings
    let store: any GatewayStore
    let dispatcher: DeliveryDispatcher
    let chain: AuditChain
    let signal: DeliverySignal
    /// Told of every outcome recorded (what `Prefer: wait` waits for).
    let outcomes: DeliveryOutcomes
    let logger: Logger
    let metrics: GatewayMetrics
    let now: @Sendable () -> Date
    /// How often to look for due deliveries when nothing nudges.
    let pollInterval: Duration

    public init(
        settings: GatewaySettings,
        store: any GatewayStore,
        dispatcher: DeliveryDispatcher,
        chain: AuditChain,
        signal: DeliverySignal,
        outcomes: DeliveryOutcomes = DeliveryOutcomes(),
        logger: Logger,
        pollInterval: Duration = .milliseconds(500),
        metrics: GatewayMetrics = .disabled,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.settings = settings
        self.store = store
        self.dispatcher = dispatcher
        self.chain = chain
        self.signal = signal
        self.outcomes = outcomes
        self.logger = logger
        self.pollInterval = pollInterval
        self.metrics = metrics
        self.now = now
    }

    public func run() async throws {
        let inFlight = Counter()
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let free = settings.workers - inFlight.value.load(ordering: .relaxed)
                var leased: [Delivery] = []
                if free > 0 {
                    do {
                        leased = try await store.leaseDue(
                            now: now(),
                            limit: free,
                            leaseFor: settings.lease / .seconds(1)
                        )
                    } catch {
                        logger.error("cannot lease deliveries", metadata: ["error": "\(error)"])
                    }
                }
                if !leased.isEmpty {
                    // From when each was due (a first attempt: its created_at) until it was leased.
                    let leasedAt = now()
                    for record in leased {
                        let waited = max(0, leasedAt.timeIntervalSince(record.nextAttemptAt ?? record.createdAt))
                        metrics.time(.leaseWait, .microseconds(Int64(waited * 1_000_000)))
                    }
                }
                for record in leased {
                    inFlight.value.add(1, ordering: .relaxed)
                    group.addTask {
                        await process(record)
                        inFlight.value.subtract(1, ordering: .relaxed)
                        signal.nudge()
                    }
                }
                // Everything due is running, or every worker is busy: wait for a change.
                if leased.isEmpty || leased.count == free {
                    await cancelWhenGracefulShutdown { await signal.wait(timeout: pollInterval) }
                }
            }
        }
    }

    /// One attempt of a leased delivery, and its outcome recorded.
    func process(_ record: Delivery) async {
        let started = ContinuousClock.now
        let masked = AuditChain.mask(record.recipient.description)
        var metadata: Logger.Metadata = [
            "delivery_id": "\(record.id.lowercasedString)", "recipient": "\(masked)",
            "attempt": "\(record.attempts)",
        ]
        if let requestID = record.requestID { metadata["request_id"] = "\(requestID)" }
        let outcome: DeliveryOutcome
        var audit: AuditDraft
        switch await dispatcher.attempt(record) {
        case .success(let receipt):
            outcome = .sent(reply: receipt.reply, at: now())
            audit = draft(.emailSent, record, outcome: "sent", details: ["smtp_reply": receipt.reply])
        case .failure(let failure):
            // A server's reply may name the recipient (`550 <jane@example.com>: …`): mask it before
            // it reaches the audit log, the log or the API.
            let message = AuditChain.maskingAddresses(in: failure.message)
            let error = DeliveryError(
                errorClass: failure.errorClass,
                failure: failure.failure,
                retryAfter: failure.retryAfter,
                source: failure.source,
                message: message
            )
            var details = ["error_class": error.errorClass.rawValue, "error": error.message, "source": error.source]
            switch settings.retry.decide(error, attempts: record.attempts, now: now(), deadline: record.deadline) {
            case .retry(let at, let counts):
                outcome = .retry(
                    at: at,
                    errorClass: error.errorClass,
                    error: error.message,
                    countsAsAttempt: counts
                )
                details["next_attempt_at"] = Timestamp.format(at)
                audit = draft(.emailAttemptFailed, record, outcome: "retrying", details: details)
            case .fail(let failure):
                outcome = .failed(failure: failure, errorClass: error.errorClass, error: error.message)
                audit = draft(.emailFailed, record, outcome: failure.rawValue, details: details)
            }
        }
        audit.details["attempt"] = "\(record.attempts)"
        let recording = ContinuousClock.now
        do {
            let waits = try await recordOutcome(outcome, audit: audit, of: record, metadata: metadata)
            // Timed before `Prefer: wait` hears of it: its answer comes after the phase is counted.
            metrics.time(.outcomeCommit, .now - recording)
            outcomes.recorded(record.id)
            metadata["outcome"] = "\(outcome.status.rawValue)"
            if waits > 0 { metadata["store_waits"] = "\(waits)" }
            metadata["duration_ms"] = "\((ContinuousClock.now - started) / .milliseconds(1))"
            if let error = outcome.error { metadata["error"] = "\(error)" }
            logger.info("delivery attempt", metadata: metadata)
            countAttempt(outcome)
        } catch {
            // The lease ran out and another worker took the delivery over: its record wins.
            logger.warning("cannot record a delivery attempt", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            metrics.attempted(outcome: "lease_lost", errorClass: nil)
        }
    }

    /// Records the outcome of the attempt. While the store cannot be reached (a database restarting)
    /// it tries again, with pauses growing to a second, for up to `recordPatience`: an email that
    /// went out is then recorded as sent as soon as the database is back, instead of being sent
    /// again once its lease runs out. The attempt guard of `finish` keeps this safe if another
    /// worker took the delivery over meanwhile (`leaseLost`, not retried). Answers how many times it
    /// waited for the store; the first wait is logged.
    private func recordOutcome(
        _ outcome: DeliveryOutcome,
        audit: AuditDraft,
        of record: Delivery,
        metadata: Logger.Metadata
    ) async throws(StoreError) -> Int {
        let giveUp = ContinuousClock.now + Self.recordPatience
        var pause = Duration.milliseconds(100)
        var waits = 0
        while true {
            do throws(StoreError) {
                try await store.finish(id: record.id, attempt: record.attempts, outcome: outcome, audit: [audit])
                return waits
            } catch let failure {
                guard case .unavailable = failure, ContinuousClock.now < giveUp else { throw failure }
                if waits == 0 {
                    logger.warning(
                        "the store is unavailable: the attempt's outcome waits for it",
                        metadata: metadata.merging(["error": "\(failure)"]) { $1 }
                    )
                }
                waits += 1
                // Cancelled (the gateway is stopping hard): the lease will hand the delivery on.
                do { try await Task.sleep(for: pause) } catch { throw failure }
                pause = min(pause * 2, .seconds(1))
            }
        }
    }

    /// How long an outcome waits for an unreachable store (see `recordOutcome`).
    static let recordPatience = Duration.seconds(60)

    /// Counts a recorded attempt, and the delivery if it is final.
    private func countAttempt(_ outcome: DeliveryOutcome) {
        switch outcome {
        case .sent:
            metrics.attempted(outcome: "sent", errorClass: nil)
            metrics.finished(sent: true, failure: nil)
        case .retry(_, let errorClass, _, _):
            metrics.attempted(outcome: "retry", errorClass: errorClass)
        case .failed(let failure, let errorClass, _):
            metrics.attempted(outcome: "failed", errorClass: errorClass)
            metrics.finished(sent: false, failure: failure.rawValue)
        }
    }

    private func draft(
        _ action: AuditAction,
        _ record: Delivery,
        outcome: String,
        details: [String: String]
    ) -> AuditDraft {
        var details = details
        if let templateType = record.templateType { details["template_type"] = templateType.rawValue }
        return AuditDraft(
            at: now(),
            actor: "system",
            requestID: record.requestID,
            action: action,
            deliveryID: record.id,
            identityID: record.identityID,
            recipientHash: chain.recipientHash(record.recipient.description),
            recipientMasked: AuditChain.mask(record.recipient.description),
            outcome: outcome,
            details: details
        )
    }
}

/// The number of attempts in flight, shared by the loop and the attempt tasks.
private final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
