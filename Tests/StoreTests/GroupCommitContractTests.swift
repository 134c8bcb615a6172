import Audit
import Foundation
import Store
import Testing

/// Contract: concurrent accepts and outcomes share transactions (group commit), and a unit refused
/// or failed in a batch is undone alone.
///
/// Each test holds the store's writes (`holdWrites`), lets one unit start its transaction, queues
/// the others behind it, and only then lets the writes go: the queued units are then one batch, the
/// same on a loaded machine as on an idle one.
@Suite struct GroupCommitContractTests {
    @Test(arguments: StoreFactory.all)
    func concurrentAcceptsShareTransactions(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let chain = subject.chain
        let counted = try #require(store as? any GroupCommitting)
        let before = counted.groupCommits

        let results = try await inOneBatch(subject, then: 30) { _ in
            try await store.accept(Fixtures.newDelivery(chain: chain))
        }

        #expect(results.compactMap(\.accepted).count == 31)
        let after = counted.groupCommits
        #expect(after.batches - before.batches == 2)
        #expect(after.units - before.units == 31)
        let events = try await store.auditEvents(afterSeq: 0, limit: 100)
        #expect(events.map(\.seq) == Array(1...31))
        #expect(try await store.verifyAudit(chain: chain) == .ok(events: 31, head: events[30].hash))
    }

    @Test(arguments: StoreFactory.all)
    func aRefusedOrFailedUnitDoesNotRollBackTheOthersInItsBatch(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let chain = subject.chain
        let counted = try #require(store as? any GroupCommitting)

        // Before the batch: a delivery to the identity in cooldown, a key in use, a delivery whose id
        // the failing accept reuses, and two leased deliveries (one keeps its lease, one lost it).
        let identity = UUID()
        let recent = try #require(
            try await store.accept(Fixtures.newDelivery(chain: chain, key: "recent", identityID: identity)).accepted
        )
        _ = try #require(try await store.accept(Fixtures.newDelivery(chain: chain, key: "used")).accepted)
        let sending = try #require(try await store.accept(Fixtures.newDelivery(chain: chain)).accepted)
        let lost = try #require(try await store.accept(Fixtures.newDelivery(chain: chain)).accepted)
        #expect(try await store.leaseDue(now: Fixtures.t0 + 1, limit: 10, leaseFor: 30).count == 4)
        let recentBefore = try await store.delivery(id: recent.id)
        let headBefore = try await store.auditHead()
        let before = counted.groupCommits

        // An accept that fails in its transaction: its delivery's id is taken.
        let failing = {
            var new = Fixtures.newDelivery(chain: chain, key: "failing")
            new.delivery.id = recent.id
            return new
        }()
        let good = [Fixtures.newDelivery(chain: chain, key: "good-1"), Fixtures.newDelivery(chain: chain, key: "good-2")]
        let cooled = Fixtures.newDelivery(chain: chain, key: "cooled", identityID: identity, at: Fixtures.t0 + 1, cooldown: 60)
        let reused = Fixtures.newDelivery(chain: chain, key: "used", requestHash: "hash-b")
        let sent = DeliveryOutcome.sent(reply: "250 ok", at: Fixtures.t0 + 2)

        /// What each unit of the batch answered.
        enum Answer: Sendable, Equatable {
            case accept(AcceptResult)
            case finish(DeliveryStatus)
            case failed(StoreError)
        }
        let units: [@Sendable () async throws -> Answer] = [
            { .accept(try await store.accept(good[0])) },
            { .accept(try await store.accept(cooled)) },
            { .accept(try await store.accept(reused)) },
            { .accept(try await store.accept(failing)) },
            {
                .finish(
                    try await store.finish(id: lost.id, attempt: 2, outcome: sent, audit: [Fixtures.draft(.emailSent)])
                        .status
                )
            },
            {
                .finish(
                    try await store.finish(id: sending.id, attempt: 1, outcome: sent, audit: [Fixtures.draft(.emailSent)])
                        .status
                )
            },
            { .accept(try await store.accept(good[1])) },
        ]
        let answers = try await inOneBatch(subject, then: units.count) { index in
            guard index > 0 else { return Answer.accept(try await store.accept(Fixtures.newDelivery(chain: chain))) }
            do {
                return try await units[index - 1]()
            } catch let error as StoreError {
                return .failed(error)
            }
        }
        #expect(counted.groupCommits.batches - before.batches == 2)

        // The batch's own units, in the order they were queued.
        let batch = answers.dropFirst()
        let accepted = batch.compactMap { answer in if case .accept(let result) = answer { result.accepted } else { nil } }
        #expect(Set(accepted.map(\.id)) == Set(good.map(\.delivery.id)))
        #expect(batch.contains(.accept(.cooldown(retryAfter: recent.createdAt + 60))))
        #expect(batch.contains(.accept(.keyReused)))
        #expect(batch.contains(.finish(.sent)))
        #expect(batch.contains(.failed(.leaseLost(lost.id, status: .sending))))
        #expect(batch.contains { if case .failed(.database) = $0 { true } else { false } })

        // The refused and failed units wrote nothing; the others are stored and audited, in a chain
        // that verifies.
        for key in ["cooled", "failing"] {
            #expect(try await store.idempotentAnswer(apiKeyID: "backend", key: key, now: Fixtures.t0 + 2) == nil)
        }
        #expect(try await store.delivery(id: cooled.delivery.id) == nil)
        #expect(try await store.delivery(id: recent.id) == recentBefore)
        #expect(try await store.delivery(id: lost.id)?.status == .sending)
        #expect(try await store.delivery(id: sending.id)?.status == .sent)
        for new in good { #expect(try await store.delivery(id: new.delivery.id)?.status == .queued) }
        // The first unit's event, the two good accepts' and the one outcome's.
        #expect(try await store.auditHead() == headBefore + 4)
        #expect(try await store.verifyAudit(chain: chain).isOK)
    }

    /// Runs `body(0)` while the store's writes are held until its transaction has begun, then
    /// `body(1...count)` until all of them wait behind it, then lets the writes go: the first batch is
    /// the first unit alone, the second all the others. Answers in index order.
    private func inOneBatch<Value: Sendable>(
        _ subject: StoreUnderTest,
        then count: Int,
        _ body: @escaping @Sendable (Int) async throws -> Value
    ) async throws -> [Value] {
        let counted = try #require(subject.store as? any GroupCommitting)
        let held = try await subject.holdWrites()
        return try await withThrowingTaskGroup(of: (Int, Value).self) { group in
            group.addTask { (0, try await body(0)) }
            try await until { counted.groupCommits.writing == 1 }
            for index in 1...count { group.addTask { (index, try await body(index)) } }
            try await until { counted.groupCommits.waiting == count }
            try await held.release()
            var values: [(Int, Value)] = []
            for try await value in group { values.append(value) }
            return values.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Waits until `condition` holds (a state reached, not a time guessed); fails after a minute.
    private func until(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("the group commit did not reach the expected state")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
