import Foundation
import JSONValue
import KratosStandIn
import Testing

@testable import Gateway

/// The dry run of a batch against the same store and stand-in as single sends: the cooldown read
/// from the store (nothing written), the recipient rule of the caller's scopes.
extension AcceptServiceTests {
    func dryRun(_ parts: Parts, _ items: [JSONValue], caller: Caller = backend) async throws -> BatchDryRunReport {
        let batch = try RecoveryBatch(fields: ["reason": .string("breach"), "dry_run": .bool(true)])
        let run = try BatchDryRun(accept: parts.accept, batch: batch, caller: caller)
        return try await run.run(items)
    }

    @Test func aDryRunReadsTheCooldownAndWritesNothing() async throws {
        try await withParts { parts in
            _ = try await parts.accept.accept(body: identity(Self.alice), idempotencyKey: "k-1", caller: Self.backend)
            let before = (
                try await parts.deliveries().count, try await parts.auditActions(), parts.standIn.state.issued.count
            )

            let report = try await dryRun(parts, [.string(Self.alice), .string("FOOBAR@ory.sh"), .string(Self.ada)])
            #expect(report.items.map(\.outcome) == [.cooldown, .cooldown, .wouldSend])
            #expect(report.items[0].reason?.contains("recently; again after 20") == true)
            #expect(report.counts["cooldown"] == 2 && report.counts["would_send"] == 1)

            let after = (
                try await parts.deliveries().count, try await parts.auditActions(), parts.standIn.state.issued.count
            )
            #expect(before == after)
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
            // Refused in a dry run, the foreign recipient is not audited as a single send's refusal is.
            #expect(try await parts.auditActions().isEmpty)
        }
    }
}
