import Audit
import Foundation
import JSONValue
import Kratos
import Mail
import RFC3339
import Store

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

/// The answer to a dry run: the counts by outcome and every item's finding, in order.
public struct BatchDryRunReport: Sendable, Equatable, Encodable {
    public var total: Int
    public var counts: [String: Int]
    public var items: [BatchItemReport]

    init(items: [BatchItemReport]) {
        self.total = items.count
        self.items = items.sorted { $0.position < $1.position }
        var counts = Dictionary(uniqueKeysWithValues: BatchOutcome.allCases.map { ($0.rawValue, 0) })
        for item in items { counts[item.outcome.rawValue, default: 0] += 1 }
        self.counts = counts
    }

    enum CodingKeys: String, CodingKey {
        case total, counts, items
        case dryRun = "dry_run"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(true, forKey: .dryRun)
        try container.encode(total, forKey: .total)
        try container.encode(counts, forKey: .counts)
        try container.encode(items, forKey: .items)
    }
}

/// The dry run of a batch: each item checked with the rules of a single send (identity,
/// recovery address, recipient scope, cooldown), a few at a time toward Kratos. Creates no
/// link, stores nothing, writes no audit event. A Kratos or store outage ends it with the
/// ``AcceptRefusal`` a single send would get; a bad item is reported and the rest goes on.
public struct BatchDryRun: Sendable {
    let accept: AcceptService
    let batch: RecoveryBatch
    let caller: Caller

    /// How many items are resolved at Kratos at once.
    public static let concurrency = 8

    /// Checks the batch's common fields against the template catalog (a refusal names the field).
    public init(accept: AcceptService, batch: RecoveryBatch, caller: Caller) throws(AcceptRefusal) {
        _ = try accept.methodAndTemplate(batch.common)
        self.accept = accept
        self.batch = batch
        self.caller = caller
    }

    /// Runs over `items` (read as they come: never more than ``concurrency`` ahead of Kratos).
    public func run<Items: AsyncSequence & Sendable>(_ items: Items) async throws -> BatchDryRunReport
    where Items.Element == BatchInput {
        try await withThrowingTaskGroup(of: BatchItemReport.self) { group in
            var reports: [BatchItemReport] = []
            var running = 0
            for try await input in items {
                if running == Self.concurrency, let report = try await group.next() {
                    reports.append(report)
                    running -= 1
                }
                group.addTask { try await check(input) }
                running += 1
            }
            while let report = try await group.next() { reports.append(report) }
            return BatchDryRunReport(items: reports)
        }
    }

    /// Runs over the items of a JSON body, numbered from 1.
    public func run(_ items: [JSONValue]) async throws -> BatchDryRunReport {
        try await run(BatchInput.numbered(items))
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
        guard cooldown > 0, let id = UUID(uuidString: identity) else { return nil }
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
