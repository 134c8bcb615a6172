import Foundation
import Store
import Testing

/// Contract: console sessions as every replica sees them — only the id's hash kept, idle timeout
/// and lifetime, sign-out, the per-agent bound, the open send forms.
@Suite struct ConsoleSessionContractTests {
    static let limits = ConsoleSessionLimits(idleTimeout: 900, lifetime: 8 * 3_600, perAgent: 3)

    static func session(
        _ idHash: String,
        agent: String = "oidc:https://idp.example#agent-1",
        at: Date = Fixtures.t0
    )
        -> ConsoleSessionRecord
    {
        ConsoleSessionRecord(
            idHash: idHash,
            agent: agent,
            actor: "Alice Agent <https://idp.example#agent-1>",
            displayName: "Alice Agent",
            scopes: ["recovery:read", "recovery:send"],
            signedInAt: at,
            lastSeen: at
        )
    }

    @Test(arguments: StoreFactory.all)
    func aSessionIsReadBackOnAnotherStoreAndEndsEverywhereAtSignOut(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let other = try subject.reopen(subject.chain)
        let created = Self.session(String(repeating: "a", count: 64))
        try await subject.store.createConsoleSession(created, limits: Self.limits)

        let later = Fixtures.t0.addingTimeInterval(60)
        let used = try await other.useConsoleSession(idHash: created.idHash, now: later, limits: Self.limits)
        #expect(used == created.with { $0.lastSeen = later })
        try await other.updateConsoleSendForms(idHash: created.idHash, sendForms: #"{"x":{"key":"console-1"}}"#)
        let again = try await subject.store.useConsoleSession(
            idHash: created.idHash,
            now: later.addingTimeInterval(1),
            limits: Self.limits
        )
        #expect(again?.sendForms == #"{"x":{"key":"console-1"}}"#)

        try await other.endConsoleSession(idHash: created.idHash)
        #expect(
            try await subject.store.useConsoleSession(idHash: created.idHash, now: later, limits: Self.limits) == nil
        )
        // Ending it twice, or a hash never stored, changes nothing and is no error.
        try await subject.store.endConsoleSession(idHash: created.idHash)
        try await subject.store.updateConsoleSendForms(idHash: "unknown", sendForms: "{}")
        await other.close()
    }

    @Test(arguments: StoreFactory.all)
    func idleTimeoutAndLifetimeEndASessionAndUseKeepsItAlive(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let busy = Self.session(String(repeating: "b", count: 64))
        let idle = Self.session(String(repeating: "c", count: 64), agent: "key:backend")
        try await store.createConsoleSession(busy, limits: Self.limits)
        try await store.createConsoleSession(idle, limits: Self.limits)

        // Used every 10 minutes, the busy session outlives the 15-minute idle timeout ...
        var at = Fixtures.t0
        for _ in 0..<5 {
            at = at.addingTimeInterval(600)
            #expect(try await store.useConsoleSession(idHash: busy.idHash, now: at, limits: Self.limits) != nil)
        }
        // ... the idle one does not, and stays gone.
        #expect(try await store.useConsoleSession(idHash: idle.idHash, now: at, limits: Self.limits) == nil)
        #expect(try await store.useConsoleSession(idHash: idle.idHash, now: Fixtures.t0, limits: Self.limits) == nil)

        // Past its lifetime (here 40 minutes) it ends however busy.
        let short = ConsoleSessionLimits(idleTimeout: 900, lifetime: 2_400, perAgent: 3)
        #expect(try await store.useConsoleSession(idHash: busy.idHash, now: at, limits: short) == nil)
    }

    @Test(arguments: StoreFactory.all)
    func aNewSessionEndsOnlyTheSameAgentsOldestBeyondTheBound(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let bystander = Self.session(String(repeating: "f", count: 64), agent: "oidc:https://idp.example#agent-2")
        try await store.createConsoleSession(bystander, limits: Self.limits)
        let hashes = (0..<5).map { String(repeating: "\($0)", count: 64) }
        for (index, hash) in hashes.enumerated() {
            let at = Fixtures.t0.addingTimeInterval(Double(index))
            try await store.createConsoleSession(Self.session(hash, at: at), limits: Self.limits)
        }
        let now = Fixtures.t0.addingTimeInterval(10)
        var live: [String] = []
        for hash in hashes where try await store.useConsoleSession(idHash: hash, now: now, limits: Self.limits) != nil {
            live.append(hash)
        }
        #expect(live == Array(hashes.suffix(3)))
        #expect(try await store.useConsoleSession(idHash: bystander.idHash, now: now, limits: Self.limits) != nil)
    }
}

extension ConsoleSessionRecord {
    func with(_ change: (inout ConsoleSessionRecord) -> Void) -> ConsoleSessionRecord {
        var copy = self
        change(&copy)
        return copy
    }
}
