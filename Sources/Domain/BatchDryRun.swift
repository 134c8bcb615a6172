import Audit
import Foundation
import JSONValue
import Kratos
import Mail
import RFC3339
import Store
import UUIDText

/// What a dry run found for one item of a batch.
public enum BatchOutcome: String, Sendable, CaseIterable, Codable {
    case wouldSend = "would_send"
    case notFound = "not_found"
    case noRecoveryAddress = "no_recovery_address"
    case recipientNotAllowed = "recipient_not_allowed"
    case cooldown
    case invalid
}

/// One item of a batch as read: its 1-based position (the line number of an NDJSON body) and
/// the JSON value, or why the line is not one.
public struct BatchInput: Sendable {
    public var position: Int
    public var item: Result<JSONValue, RequestError>

    public init(position: Int, item: Result<JSONValue, RequestError>) {
        self.position = position
        self.item = item
    }

    /// The items of a JSON body, numbered from 1.
    public static func numbered(_ items: [JSONValue]) -> AsyncStream<BatchInput> {
        AsyncStream { continuation in
            for (offset, item) in items.enumerated() {
                continuation.yield(BatchInput(position: offset + 1, item: .success(item)))
            }
            continuation.finish()
        }
    }
}

/// The dry run's finding for one item: the identity and recipient (masked) it would send to,
/// or why not.
public struct BatchItemReport: Sendable, Equatable, Encodable {
    public var position: Int
    public var outcome: BatchOutcome
    public var identityID: String?
    public var recipient: String?
    public var reason: String?

    enum CodingKeys: String, CodingKey {
        case position, outcome, reason, recipient
        case identityID = "identity_id"
    }
}

/// The counts of a dry run so far: the items read, by outcome (every outcome, 0 included).
public struct BatchDryRunTally: Sendable, Equatable {
    public private(set) var total = 0
    public private(set) var counts = Dictionary(uniqueKeysWithValues: BatchOutcome.allCases.map { ($0.rawValue, 0) })

    mutating func add(_ report: BatchItemReport) {
        total += 1
        counts[report.outcome.rawValue, default: 0] += 1
    }
}

/// How a dry run ended: its counts, and the outage that cut it short (the ``AcceptRefusal`` a
/// single send would have got), if one did.
public struct BatchDryRunResult: Sendable {
    public var tally: BatchDryRunTally
    public var failure: AcceptRefusal?
}

/// The dry run of a batch: each item checked with the rules of a single send (identity,
/// recovery address, recipient scope, cooldown), a few at a time toward Kratos. Creates no link
/// and stores nothing but its `batch.dry_run` audit event.
///
/// Bounded and accountable: each item's finding is handed on as soon as it and those before it
/// are known (memory stays flat in the item count), each item looked up at Kratos takes a token
/// of the caller's rate limit as a single send does (the run waits for it), and the event records
/// the caller, the counts and the reason. A Kratos or store outage ends it; a bad item is reported
/// and the rest goes on.
public struct BatchDryRun: Sendable {
    let accept: AcceptService
    let batch: RecoveryBatch
    let caller: Caller

    /// How many items are resolved at Kratos at once.
    public static let concurrency = 8
    /// How many findings wait at most for an earlier, slower one before no more are started.
    static let window = 64

    /// Checks the batch's common fields against the template catalog (a refusal names the field).
    public init(accept: AcceptService, batch: RecoveryBatch, caller: Caller) throws(AcceptRefusal) {
        _ = try accept.methodAndTemplate(batch.common)
        self.accept = accept
        self.batch = batch
        self.caller = caller
    }

    /// Runs over `items` (read as they come: never more than ``window`` ahead of the findings
    /// handed on), hands each finding in order to `emit` with how many were handed on before it,
    /// and appends the `batch.dry_run` event (a failure to append it is the result's failure).
    /// Throws what reading `items` or `emit` throws.
    public func run<Items: AsyncSequence & Sendable>(
        _ items: Items,
        emit: (BatchItemReport, Int) async throws -> Void
    ) async throws -> BatchDryRunResult where Items.Element == BatchInput {
        var tally = BatchDryRunTally()
        var failure: AcceptRefusal?
        do {
            try await walk(items, tally: &tally, emit: emit)
        } catch let refusal as AcceptRefusal {
            failure = refusal
        }
        do {
            _ = try await accept.store.appendAudit(audit(tally, complete: failure == nil))
        } catch {
            failure = failure ?? .storeUnavailable(error)
        }
        return BatchDryRunResult(tally: tally, failure: failure)
    }

    /// Checks every item, at most ``concurrency`` at once, and hands the findings on in order.
    private func walk<Items: AsyncSequence & Sendable>(
        _ items: Items,
        tally: inout BatchDryRunTally,
        emit: (BatchItemReport, Int) async throws -> Void
    ) async throws where Items.Element == BatchInput {
        try await withThrowingTaskGroup(of: (Int, BatchItemReport).self) { group in
            var waiting: [Int: BatchItemReport] = [:]
            var (read, running) = (0, 0)
            func collect() async throws {
                guard let found = try await group.next() else { return }
                running -= 1
                waiting[found.0] = found.1
                while let next = waiting.removeValue(forKey: tally.total) {
                    try await emit(next, tally.total)
                    tally.add(next)
                }
            }
            for try await input in items {
                while running == Self.concurrency || running + waiting.count >= Self.window {
                    try await collect()
                }
                let index = read
                group.addTask {
                    let report = try await check(input)
                    return (index, report)
                }
                (read, running) = (read + 1, running + 1)
            }
            while running > 0 { try await collect() }
        }
    }

    /// One item's finding; an outage is thrown, not reported.
    func check(_ input: BatchInput) async throws(AcceptRefusal) -> BatchItemReport {
        var report = BatchItemReport(position: input.position, outcome: .invalid)
        let request: RecoveryEmailRequest
        do {
            request = try batch.request(for: try input.item.get())
        } catch {
            report.reason = error.description
            return report
        }
        do throws(AcceptRefusal) {
            try await takeToken()
            let identity = try await accept.resolveIdentity(request.target)
            report.identityID = identity.id.lowercased()
            let (recipient, _) = try accept.resolveRecipient(request, identity: identity, caller: caller)
            report.recipient = AuditChain.mask(recipient.description)
            if let until = try await accept.cooldownUntil(identity: identity.id, recipient: recipient) {
                throw AcceptRefusal.cooldown(retryAfter: until)
            }
            report.outcome = .wouldSend
        } catch {
            guard let (outcome, reason) = error.itemFinding else { throw error }
            report.outcome = outcome
            report.reason = reason
            if outcome == .recipientNotAllowed {
                report.recipient = request.recipient.map { AuditChain.mask($0.description) }
            }
        }
        return report
    }

    /// Waits for a token of the caller's rate limit, as a single send would take one (refused as
    /// rate-limited if the run is cancelled meanwhile: the caller went away).
    private func takeToken() async throws(AcceptRefusal) {
        while let wait = accept.rateLimiter.take(caller.name, now: accept.now()) {
            guard !Task.isCancelled else { throw .rateLimited(retryAfter: wait) }
            try? await Task.sleep(for: wait)
        }
    }

    /// The `batch.dry_run` event: who asked, why, and what was found.
    func audit(_ tally: BatchDryRunTally, complete: Bool) -> AuditDraft {
        var details = ["items": String(tally.total)]
        for (outcome, count) in tally.counts { details[outcome] = String(count) }
        if let reason = batch.common.reason { details["reason"] = AuditChain.maskingAddresses(in: reason) }
        return AuditDraft(
            at: accept.now(),
            actor: caller.name,
            sourceIP: caller.sourceIP,
            requestID: caller.requestID,
            action: .batchDryRun,
            outcome: complete ? "complete" : "incomplete",
            details: details
        )
    }
}

extension AcceptRefusal {
    /// What this refusal of one item of a batch is reported as, and why; nil for an outage (Kratos
    /// or the store), which is no finding about the item.
    var itemFinding: (BatchOutcome, String)? {
        switch self {
        case .identityNotFound: (.notFound, "Kratos knows no such identity (or none logs in with this email)")
        case .noRecoveryAddress: (.noRecoveryAddress, "the identity has no email recovery address")
        case .recipientNotAllowed:
            (.recipientNotAllowed, "the recipient is not one of the identity's recovery addresses")
        case .identityAmbiguous: (.invalid, "more than one identity logs in with this email; give identity_id")
        case .invalid(let error): (.invalid, error.description)
        case .cooldown(let until):
            (
                .cooldown,
                "a recovery email went to this identity and recipient recently; again after "
                    + Timestamp.format(until)
            )
        case .rateLimited, .keyReused, .kratosUnavailable, .storeUnavailable: nil
        }
    }
}

extension AcceptService {
    /// Until when a send to `identity` and `recipient` would be refused for the cooldown, read
    /// from the store (nothing written); nil when it would not be.
    func cooldownUntil(identity: String, recipient: EmailAddress) async throws(AcceptRefusal) -> Date? {
        let cooldown = settings.cooldown / .seconds(1)
        guard cooldown > 0, let id = UUID(text: identity) else { return nil }
        let started = now()
        let latest = try await storeCall { () async throws(StoreError) in
            try await store.latestDelivery(
                identityID: id,
                recipient: recipient.description,
                since: started.addingTimeInterval(-cooldown)
            )
        }
        return latest?.addingTimeInterval(cooldown)
    }
}
