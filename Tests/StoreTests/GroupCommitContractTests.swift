import Audit
import Foundation
import Store
import Synchronization
import Testing

/// Contract: concurrent accepts and outcomes share transactions (group commit), and a unit refused
/// or failed in a batch is undone alone.
///
/// Each test holds the store's writes (`holdWrites`), lets one unit per writer start its transaction,
/// queues the others behind them, and only then lets the writes go: the queued units are then one
/// batch, the same on a loaded machine as on an idle one.
@Suite struct GroupCommitContractTests {
    @Test(arguments: StoreFactory.all)
    func concurrentAcceptsShareTransactions(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let chain = subject.chain
        let counted = try #require(store as? any GroupCommitting)
        let before = counted.groupCommits

        let accept: @Sendable () async throws -> AcceptResult = {
            try await store.accept(Fixtures.newDelivery(chain: chain))
        }
        let (first, batch) = try await inOneBatch(subject, first: accept, then: 30) { _ in try await accept() }

        let writers = before.writers
        #expect((first + batch).compactMap(\.accepted).count == writers + 30)
        let after = counted.groupCommits
        #expect(after.batches - before.batches == writers + 1)
        #expect(after.units - before.units == writers + 30)
        let events = try await store.auditEvents(afterSeq: 0, limit: 100)
        #expect(events.map(\.seq) == Array(1...Int64(writers + 30)))
        #expect(try await store.verifyAudit(chain: chain) == .ok(events: writers + 30, head: events.last?.hash ?? ""))
    }

    /// The observer hears every unit committed, by kind (what the accept phases' wait and flush
    /// are timed from), before its caller resumes.
    @Test(arguments: StoreFactory.all)
    func theObserverHearsEachUnitByKind(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let counted = try #require(store as? any GroupCommitting)
        let heard = Mutex<[GroupCommitUnitKind]>([])
        let negative = Mutex(0)
        counted.observeGroupCommits(
            GroupCommitObserver { kind, waited, committed in
                if waited < .zero || committed < .zero { negative.withLock { $0 += 1 } }
                heard.withLock { $0.append(kind) }
            }
        )
        let queued = try #require(try await store.accept(Fixtures.newDelivery(chain: subject.chain)).accepted)
        #expect(heard.withLock { $0 } == [.accept])
        #expect(try await store.leaseDue(now: Fixtures.t0 + 1, limit: 1, leaseFor: 30).count == 1)
        let sent = DeliveryOutcome.sent(reply: "250 ok", at: Fixtures.t0 + 2)
        try await store.finish(id: queued.id, attempt: 1, outcome: sent, audit: [Fixtures.draft(.emailSent)])
        _ = try await store.appendAudit(Fixtures.draft(.emailRefused))
        // A lease goes through the group commit where the store has one writer (SQLite), not where
        // leases of several replicas skip each other's rows (PostgreSQL): either way it is named.
        #expect(heard.withLock { $0 }.filter { $0 != .lease } == [.accept, .outcome, .audit])
        #expect(heard.withLock { $0 }.filter { $0 == .lease }.count <= 1)
        #expect(negative.withLock { $0 } == 0)
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
        let good = [
            Fixtures.newDelivery(chain: chain, key: "good-1"), Fixtures.newDelivery(chain: chain, key: "good-2"),
        ]
        let cooled = Fixtures.newDelivery(
            chain: chain,
            key: "cooled",
            identityID: identity,
            at: Fixtures.t0 + 1,
            cooldown: 60
        )
        let reused = Fixtures.newDelivery(chain: chain, key: "used", requestHash: "hash-b")
        let sent = DeliveryOutcome.sent(reply: "250 ok", at: Fixtures.t0 + 2)

        /// What each unit of the batch answered.
        enum Answer: Sendable, Equatable {
            case accept(AcceptResult)
            case finished
            case failed(StoreError)
        }
        let units: [@Sendable () async throws -> Answer] = [
            { .accept(try await store.accept(good[0])) },
            { .accept(try await store.accept(cooled)) },
            { .accept(try await store.accept(reused)) },
            { .accept(try await store.accept(failing)) },
            {
                try await store.finish(id: lost.id, attempt: 2, outcome: sent, audit: [Fixtures.draft(.emailSent)])
                return .finished
            },
            {
                try await store.finish(id: sending.id, attempt: 1, outcome: sent, audit: [Fixtures.draft(.emailSent)])
                return .finished
            },
            { .accept(try await store.accept(good[1])) },
        ]
        let plain: @Sendable () async throws -> Answer = {
            .accept(try await store.accept(Fixtures.newDelivery(chain: chain)))
        }
        let (_, batch) = try await inOneBatch(subject, first: plain, then: units.count) { index in
            do {
                return try await units[index]()
            } catch let error as StoreError {
                return .failed(error)
            }
        }
        #expect(counted.groupCommits.batches - before.batches == before.writers + 1)

        let accepted = batch.compactMap { answer in
            if case .accept(let result) = answer { result.accepted } else { nil }
        }
        #expect(Set(accepted.map(\.id)) == Set(good.map(\.delivery.id)))
        #expect(batch.contains(.accept(.cooldown(retryAfter: recent.createdAt + 60))))
        #expect(batch.contains(.accept(.keyReused)))
        #expect(batch.contains(.finished))
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
        // The first units' events, the two good accepts' and the one outcome's.
        #expect(try await store.auditHead() == headBefore + Int64(before.writers) + 3)
        #expect(try await store.verifyAudit(chain: chain).isOK)
    }

    /// Runs `first` once per writer of the store's group commit while its writes are held, each
    /// until its transaction has begun, then `body(0..<count)` until all of them wait behind those,
    /// then lets the writes go: each `first` is a batch alone, and all the others are one batch.
    /// Answers `first`'s results and the batch's, in index order.
    private func inOneBatch<Value: Sendable>(
        _ subject: StoreUnderTest,
        first: @escaping @Sendable () async throws -> Value,
        then count: Int,
        _ body: @escaping @Sendable (Int) async throws -> Value
    ) async throws -> (first: [Value], batch: [Value]) {
        let counted = try #require(subject.store as? any GroupCommitting)
        let writers = counted.groupCommits.writers
        let held = try await subject.holdWrites()
        return try await withThrowingTaskGroup(of: (Int, Value).self) { group in
            for writer in 1...writers {
                group.addTask { (-writer, try await first()) }
                try await until { counted.groupCommits.writing == writer }
            }
            for index in 0..<count { group.addTask { (index, try await body(index)) } }
            try await until { counted.groupCommits.waiting == count }
            try await held.release()
            var values: [(Int, Value)] = []
            for try await value in group { values.append(value) }
            values.sort { $0.0 < $1.0 }
            return (values.filter { $0.0 < 0 }.map(\.1), values.filter { $0.0 >= 0 }.map(\.1))
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
