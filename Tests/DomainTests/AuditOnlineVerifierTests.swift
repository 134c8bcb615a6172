import Audit
import Foundation
import Logging
import SQLiteStore
import Store
import TestSupport
import Testing

@testable import Domain

/// The online verify on a real SQLite store: it resumes from the newest signed checkpoint, finds a
/// rewrite after it, and refuses callers that ask too often or while another verification runs.
@Suite struct AuditOnlineVerifierTests {
    let chain = AuditChain(key: try! AuditKey(bytes: [UInt8](repeating: 7, count: 32)))
    let key = AuditSigningKey(seed: [UInt8](repeating: 8, count: 32))

    func refusals(_ count: Int, on store: SQLiteStore) async throws {
        for index in 0..<count {
            _ = try await store.appendAudit(
                AuditDraft(at: Date(), actor: "backend", action: .emailRefused, details: ["reason": "r\(index)"])
            )
        }
    }

    /// The events a verification counted, when it passed.
    func events(_ verification: AuditOnlineVerification) -> Int? {
        if case .ok(let events, _) = verification.result { events } else { nil }
    }

    @Test func resumesFromTheNewestSignedCheckpointAndFindsARewriteAfterIt() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("gateway.sqlite").path
        let store = try SQLiteStore(path: path, chain: chain)
        try await store.migrate()
        let verifier = AuditOnlineVerifier(store: store, chain: chain, signer: key.publicKey, rate: 100, burst: 100)

        try await refusals(3, on: store)
        let first = try await verifier.verify(caller: "auditor")
        #expect(first.isOK && first.resumedAfter == 0 && events(first) == 3)

        let checkpointer = AuditCheckpointer(
            store: store,
            key: key,
            chain: chain,
            alarm: AuditAlarm(metrics: .disabled),
            everyEvents: 1,
            interval: .seconds(60),
            logger: Logger(label: "test")
        )
        var state = AuditCheckpointer.State(chain: chain)
        try await checkpointer.step(&state, now: Date())
        try await refusals(2, on: store)
        let resumed = try await verifier.verify(caller: "auditor")
        #expect(resumed.resumedAfter == 3)
        #expect(resumed.isOK && events(resumed) == 6)

        try runSQLite(
            path,
            "DROP TRIGGER audit_events_no_update; UPDATE audit_events SET actor = 'mallory' WHERE seq = 5;"
        )
        let broken = try await verifier.verify(caller: "auditor")
        #expect(broken.result == .broken(firstBadSeq: 5, reason: .hashMismatch))
    }

    @Test func aCallerAskingTooOftenIsToldWhenToComeBack() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("gateway.sqlite").path, chain: chain)
        try await store.migrate()
        let verifier = AuditOnlineVerifier(store: store, chain: chain, signer: key.publicKey, rate: 0.01, burst: 2)
        _ = try await verifier.verify(caller: "auditor")
        _ = try await verifier.verify(caller: "auditor")
        await #expect {
            try await verifier.verify(caller: "auditor")
        } throws: { error in
            guard case AuditOnlineVerifier.Refusal.tooSoon(let retryAfter) = error else { return false }
            return retryAfter > .seconds(1)
        }
        // Another caller has a bucket of its own.
        #expect(try await verifier.verify(caller: "other").isOK)
    }
}
