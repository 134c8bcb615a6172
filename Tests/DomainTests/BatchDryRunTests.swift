import Audit
import Foundation
import JSONValue
import KratosStandIn
import SQLiteStore
import Store
import Testing

@testable import Domain

/// The dry run of a batch against the same store and stand-in as single sends: the cooldown read
/// from the store (nothing written), the recipient rule of the caller's scopes.
extension AcceptServiceTests {
    /// The findings of a dry run over `items`, in the order they were handed on, and its result.
    func dryRun(
        _ parts: Parts,
        _ items: [JSONValue],
        caller: Caller = backend
    ) async throws -> (items: [BatchItemReport], result: BatchDryRunResult) {
        let batch = try RecoveryBatch(fields: ["reason": .string("breach ada@example.org"), "dry_run": .bool(true)])
        let run = try BatchDryRun(accept: parts.accept, batch: batch, caller: caller)
        var reports: [BatchItemReport] = []
        let result = try await run.run(BatchInput.numbered(items)) { report, before in
            #expect(before == reports.count)
            reports.append(report)
        }
        return (reports, result)
    }

    @Test func aDryRunReadsTheCooldownAndWritesNothing() async throws {
        try await withParts { parts in
            _ = try await parts.accept.accept(body: identity(Self.alice), idempotencyKey: "k-1", caller: Self.backend)
            let before = (
                try await parts.deliveries().count, try await parts.auditActions(), parts.standIn.state.issued.count
            )

            let report = try await dryRun(parts, [.string(Self.alice), .string("FOOBAR@ory.sh"), .string(Self.ada)])
            #expect(report.items.map(\.outcome) == [.cooldown, .cooldown, .wouldSend])
            #expect(report.items.map(\.position) == [1, 2, 3])
            #expect(report.items[0].reason?.contains("recently; again after 20") == true)
            #expect(report.result.tally.counts["cooldown"] == 2 && report.result.tally.counts["would_send"] == 1)
            #expect(report.result.tally.total == 3 && report.result.failure == nil)

            let after = (
                try await parts.deliveries().count, try await parts.auditActions(), parts.standIn.state.issued.count
            )
            // Nothing but the dry run's own event.
            #expect(before.0 == after.0 && before.2 == after.2)
            #expect(after.1 == before.1 + ["batch.dry_run"])
            #expect(before.0 == 1)
        }
    }

    @Test func aDryRunAppliesTheRecipientScopeAsASingleSendDoes() async throws {
        try await withParts { parts in
            let foreign = JSONValue.object(["identity_id": .string(Self.ada), "recipient": .string("eve@evil.example")])
            let support = Caller(name: "support", scopes: [.send, .sendAnyRecipient])
            #expect(try await dryRun(parts, [foreign]).items.map(\.outcome) == [.recipientNotAllowed])
            let allowed = try await dryRun(parts, [foreign], caller: support).items
            #expect(allowed.map(\.outcome) == [.wouldSend])
            #expect(allowed.first?.recipient == "e***@e***.example")
            // Refused in a dry run, the foreign recipient is not audited as a single send's refusal
            // is; each run is, with its caller, counts and reason (addresses masked).
            #expect(try await parts.auditActions() == ["batch.dry_run", "batch.dry_run"])
            let event = try #require(try await parts.store.auditEvents(afterSeq: 0, limit: 1).first)
            #expect(event.actor == "backend" && event.outcome == "complete")
            #expect(event.details["items"] == "1" && event.details["recipient_not_allowed"] == "1")
            #expect(event.details["reason"]?.contains("ada@example.org") == false)
        }
    }
}
