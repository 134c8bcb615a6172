import Audit
import Foundation
import Store
import Testing

/// Contract: accept, idempotent replay, key reuse, cooldown, concurrency.
@Suite struct AcceptContractTests {
    @Test(arguments: StoreFactory.all)
    func acceptQueuesTheDeliveryAndAuditsIt(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let new = Fixtures.newDelivery(chain: subject.chain)

        let result = try await subject.store.accept(new)
        guard case .accepted(let record, let event) = result else {
            Issue.record("expected accepted, got \(result)")
            return
        }
        #expect(record.id == new.delivery.id)
        #expect(record.status == .queued)
        #expect(record.attempts == 0)
        #expect(record.recipient == "john.doe@example.com")
        #expect(record.nextAttemptAt == Fixtures.t0)
        #expect(record == new.delivery.with { $0.nextAttemptAt = Fixtures.t0 })
        #expect(try await subject.store.delivery(id: record.id) == record)
        #expect(event.action == .emailRequested)
        #expect(event.deliveryID == record.id)
        #expect(event.recipientMasked == "j***@e***.com")
        // Sealed into the chain at once (SQLite), or written unlinked and sequenced before a read (PostgreSQL).
        let stored = try await subject.store.auditEvents(afterSeq: 0, limit: 10)
        #expect(stored.map(\.id) == [event.id])
        #expect(stored.first?.seq == 1)
        #expect(stored.first?.prevHash == AuditEvent.genesisHash)
        #expect(stored.first?.draft == event.draft)
        #expect(
            try await subject.store.verifyAudit(chain: subject.chain) == .ok(events: 1, head: stored.first?.hash ?? "")
        )
    }

    @Test(arguments: StoreFactory.all)
    func sameKeySameRequestReplaysOtherRequestIsKeyReused(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let first = Fixtures.newDelivery(chain: subject.chain, key: "k-1")
        let accepted = try #require(try await subject.store.accept(first).accepted)

        var again = Fixtures.newDelivery(chain: subject.chain, key: "k-1", at: Fixtures.t0.addingTimeInterval(5))
        again.delivery.id = UUID()
        #expect(
            try await subject.store.accept(again).replayed == Replayed(id: accepted.id)
        )
        let other = Fixtures.newDelivery(chain: subject.chain, key: "k-1", requestHash: "hash-b")
        #expect(try await subject.store.accept(other) == .keyReused)
        // The same answer is found by the lookup that runs before any other work.
        #expect(
            try await subject.store.idempotentAnswer(apiKeyID: "backend", key: "k-1", now: Fixtures.t0 + 6)
                .map { Replayed(id: $0.deliveryID, storedAnswer: $0.storedAnswer) } == Replayed(id: accepted.id)
        )
        #expect(try await subject.store.idempotentAnswer(apiKeyID: "backend", key: "k-2", now: Fixtures.t0) == nil)
        #expect(
            try await subject.store.idempotentAnswer(apiKeyID: "backend", key: "k-1", now: Fixtures.t0 + 90_000) == nil
        )
        // The same key under another API key is another key.
        let otherCaller = Fixtures.newDelivery(chain: subject.chain, key: "k-1", apiKeyID: "support")
        #expect(try await subject.store.accept(otherCaller).accepted != nil)

        #expect(try await subject.store.deliveries(DeliveryQuery()).items.count == 2)
        #expect(try await subject.store.auditEvents(afterSeq: 0, limit: 100).count == 2)
    }

    @Test(arguments: StoreFactory.all)
    func anExpiredKeyMayBeUsedAgain(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let first = Fixtures.newDelivery(chain: subject.chain, key: "k", keyExpiresAfter: 60)
        #expect(try await subject.store.accept(first).accepted != nil)
        let later = Fixtures.newDelivery(
            chain: subject.chain,
            key: "k",
            requestHash: "hash-b",
            at: Fixtures.t0.addingTimeInterval(61)
        )
        let second = try #require(try await subject.store.accept(later).accepted)
        #expect(second.id == later.delivery.id)
        let replay = Fixtures.newDelivery(chain: subject.chain, key: "k", requestHash: "hash-b", at: Fixtures.t0 + 62)
        #expect(
            try await subject.store.accept(replay).replayed == Replayed(id: second.id)
        )
    }

    @Test(arguments: StoreFactory.all)
    func cooldownRefusesTheSameIdentityAndRecipientUnderAnotherKeyAndWritesNothing(
        factory: StoreFactory
    ) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let identity = UUID()
        let first = Fixtures.newDelivery(chain: subject.chain, key: "a", identityID: identity, cooldown: 60)
        #expect(try await subject.store.accept(first).accepted != nil)

        let soon = Fixtures.newDelivery(
            chain: subject.chain,
            key: "b",
            identityID: identity,
            recipient: "John.Doe@example.com",
            at: Fixtures.t0 + 20,
            cooldown: 60
        )
        #expect(try await subject.store.accept(soon) == .cooldown(retryAfter: Fixtures.t0 + 60))
        #expect(try await subject.store.delivery(id: soon.delivery.id) == nil)
        #expect(try await subject.store.auditEvents(afterSeq: 0, limit: 100).count == 1)
        // The refused key was not stored: it works once the cooldown is over.
        let afterCooldown = Fixtures.newDelivery(
            chain: subject.chain,
            key: "b",
            identityID: identity,
            at: Fixtures.t0 + 61,
            cooldown: 60
        )
        #expect(try await subject.store.accept(afterCooldown).accepted != nil)
        // Another recipient or another identity is not in cooldown.
        let otherRecipient = Fixtures.newDelivery(
            chain: subject.chain,
            key: "c",
            identityID: identity,
            recipient: "jd@example.org",
            at: Fixtures.t0 + 62,
            cooldown: 60
        )
        #expect(try await subject.store.accept(otherRecipient).accepted != nil)
        let otherIdentity = Fixtures.newDelivery(chain: subject.chain, key: "d", at: Fixtures.t0 + 62, cooldown: 60)
        #expect(try await subject.store.accept(otherIdentity).accepted != nil)
    }

    @Test(arguments: StoreFactory.all)
    func fiftyConcurrentAcceptsWithOneKeyMakeOneDelivery(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let chain = subject.chain
        let results = try await concurrently(50) { _ in
            try await store.accept(Fixtures.newDelivery(chain: chain, key: "same", cooldown: 60))
        }
        let accepted = results.compactMap(\.accepted)
        #expect(accepted.count == 1)
        let replays = results.filter {
            $0.replayed?.id == accepted.first?.id
        }
        #expect(replays.count == 49)
        #expect(try await store.deliveries(DeliveryQuery()).items.count == 1)
        #expect(try await store.verifyAudit(chain: chain).isOK)
        #expect(try await store.auditEvents(afterSeq: 0, limit: 100).count == 1)
    }

    @Test(arguments: StoreFactory.all)
    func aBurstOfTwoRequestsUnderOneKeyAcceptsOneAndRefusesTheOther(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let chain = subject.chain
        let results = try await concurrently(40) { index in
            let hash = index.isMultiple(of: 2) ? "hash-a" : "hash-b"
            return (hash, try await store.accept(Fixtures.newDelivery(chain: chain, key: "two", requestHash: hash)))
        }
        let winners = results.filter { $0.1.accepted != nil }
        #expect(winners.count == 1)
        let (winningHash, accepted) = try #require(winners.first)
        let id = try #require(accepted.accepted?.id)
        for (hash, result) in results where result.accepted == nil {
            if hash == winningHash {
                #expect(result.replayed == Replayed(id: id))
            } else {
                #expect(result == .keyReused)
            }
        }
        #expect(try await store.deliveries(DeliveryQuery()).items.map(\.id) == [id])
    }

    @Test(arguments: StoreFactory.all)
    func aBurstUnderOneKeyInCooldownIsRefusedWhole(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let chain = subject.chain
        let identity = UUID()
        let first = try #require(
            try await store.accept(Fixtures.newDelivery(chain: chain, key: "first", identityID: identity)).accepted
        )
        // Each refusal stores nothing for the key, so each request is decided on its own.
        let results = try await concurrently(20) { _ in
            try await store.accept(
                Fixtures.newDelivery(
                    chain: chain,
                    key: "burst",
                    identityID: identity,
                    at: Fixtures.t0 + 1,
                    cooldown: 60
                )
            )
        }
        #expect(results == Array(repeating: .cooldown(retryAfter: first.createdAt + 60), count: 20))
        #expect(try await store.deliveries(DeliveryQuery()).items.map(\.id) == [first.id])
    }

    @Test(arguments: StoreFactory.all)
    func concurrentAcceptsWithDistinctKeysKeepTheAuditChainGapless(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let chain = subject.chain
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask {
                    if index.isMultiple(of: 4) {
                        _ = try await store.appendAudit(Fixtures.draft(.emailRefused))
                    } else {
                        _ = try await store.accept(Fixtures.newDelivery(chain: chain))
                    }
                }
            }
            try await group.waitForAll()
        }
        let events = try await store.auditEvents(afterSeq: 0, limit: 100)
        #expect(events.map(\.seq) == Array(1...40))
        #expect(try await store.verifyAudit(chain: chain, batchSize: 7) == .ok(events: 40, head: events[39].hash))
    }
}

extension Delivery {
    func with(_ change: (inout Delivery) -> Void) -> Delivery {
        var copy = self
        change(&copy)
        return copy
    }
}

/// Contract: the read a batch's dry run makes for the cooldown.
@Suite struct LatestDeliveryContractTests {
    @Test(arguments: StoreFactory.all)
    func theLatestDeliveryToAnIdentityAndRecipientIsReadCaseInsensitivelyAndWritesNothing(
        factory: StoreFactory
    ) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let identity = UUID()
        for offset in [0.0, 10] {
            let new = Fixtures.newDelivery(chain: subject.chain, identityID: identity, at: Fixtures.t0 + offset)
            _ = try #require(try await subject.store.accept(new).accepted)
        }
        let store = subject.store
        let head = try await store.auditHead()
        #expect(
            try await store.latestDelivery(identityID: identity, recipient: "John.Doe@example.com", since: Fixtures.t0)
                == Fixtures.t0 + 10
        )
        #expect(
            try await store.latestDelivery(
                identityID: identity,
                recipient: "john.doe@example.com",
                since: Fixtures.t0 + 10
            )
                == nil
        )
        #expect(
            try await store.latestDelivery(identityID: identity, recipient: "jane@example.com", since: Fixtures.t0 - 1)
                == nil
        )
        #expect(
            try await store.latestDelivery(
                identityID: UUID(),
                recipient: "john.doe@example.com",
                since: Fixtures.t0 - 1
            )
                == nil
        )
        #expect(try await store.auditHead() == head)
        #expect(try await store.deliveries(DeliveryQuery()).items.count == 2)
    }
}
