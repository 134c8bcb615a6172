import Audit
import Foundation
import Store
import Testing

/// Contract: leasing, finishing, retrying, releasing and crash recovery by lease expiry.
@Suite struct LeaseContractTests {
    func accept(_ subject: StoreUnderTest, at: Date = Fixtures.t0) async throws -> Delivery {
        try #require(try await subject.store.accept(Fixtures.newDelivery(chain: subject.chain, at: at)).accepted)
    }

    @Test(arguments: StoreFactory.all)
    func leaseTakesDueRowsOnceAndFinishSent(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let due = try await accept(subject)
        let future = try await accept(subject, at: Fixtures.t0 + 100)

        let leased = try await store.leaseDue(now: Fixtures.t0 + 1, limit: 10, leaseFor: 30)
        #expect(leased.map(\.id) == [due.id])
        #expect(leased.first?.status == .sending)
        #expect(leased.first?.attempts == 1)
        #expect(leased.first?.leaseExpiresAt == Fixtures.t0 + 31)
        #expect(try await store.leaseDue(now: Fixtures.t0 + 2, limit: 10, leaseFor: 30).isEmpty)
        #expect(try await store.stats() == StoreStats(waiting: 1, sending: 1, oldestWaitingCreatedAt: future.createdAt))

        let sentDraft = Fixtures.draft(.emailSent, at: Fixtures.t0 + 3)
        try await store.finish(
            id: due.id,
            attempt: 1,
            outcome: .sent(reply: "250 2.0.0 Ok: queued as 4XbC", at: Fixtures.t0 + 3),
            audit: [sentDraft]
        )
        let sent = try #require(try await store.delivery(id: due.id))
        #expect(sent.status == .sent)
        #expect(sent.smtpReply == "250 2.0.0 Ok: queued as 4XbC")
        #expect(sent.sentAt == Fixtures.t0 + 3)
        #expect(sent.leaseExpiresAt == nil)
        #expect(try await store.delivery(id: due.id) == sent)
        let events = try await store.auditEvents(AuditQuery(deliveryID: due.id))
        #expect(events.items.map(\.action) == [.emailRequested, .emailSent])

        await #expect(throws: StoreError.leaseLost(due.id, status: .sent)) {
            try await store.finish(id: due.id, attempt: 1, outcome: .sent(reply: "250", at: Fixtures.t0 + 4), audit: [])
        }
        await #expect(throws: StoreError.leaseLost(future.id, status: .queued)) {
            try await store.finish(
                id: future.id,
                attempt: 0,
                outcome: .failed(failure: .expired, errorClass: nil, error: nil),
                audit: []
            )
        }
        let unknown = UUID()
        await #expect(throws: StoreError.deliveryNotFound(unknown)) {
            try await store.finish(
                id: unknown,
                attempt: 1,
                outcome: .sent(reply: "250", at: Fixtures.t0 + 4),
                audit: []
            )
        }
        // A refused finish appended nothing.
        #expect(try await store.verifyAudit(chain: subject.chain) == .ok(events: 3, head: events.items[1].hash))
    }

    @Test(arguments: StoreFactory.all)
    func retryWaitsForItsTimeThenCountsTheNextAttempt(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let record = try await accept(subject)
        _ = try await store.leaseDue(now: Fixtures.t0, limit: 1, leaseFor: 30)
        try await store.finish(
            id: record.id,
            attempt: 1,
            outcome: .retry(at: Fixtures.t0 + 60, errorClass: .transient, error: "421 4.3.2 try later"),
            audit: [Fixtures.draft(.emailAttemptFailed)]
        )
        let retrying = try #require(try await store.delivery(id: record.id))
        #expect(retrying.status == .retrying)
        #expect(retrying.nextAttemptAt == Fixtures.t0 + 60)
        #expect(retrying.lastErrorClass == .transient)
        #expect(retrying.lastError == "421 4.3.2 try later")
        #expect(try await store.leaseDue(now: Fixtures.t0 + 59, limit: 5, leaseFor: 30).isEmpty)
        let again = try await store.leaseDue(now: Fixtures.t0 + 60, limit: 5, leaseFor: 30)
        #expect(again.map(\.attempts) == [2])

        try await store.finish(
            id: record.id,
            attempt: 2,
            outcome: .failed(failure: .attemptsExhausted, errorClass: nil, error: nil),
            audit: [Fixtures.draft(.emailFailed)]
        )
        let failed = try #require(try await store.delivery(id: record.id))
        #expect(failed.status == .failed)
        #expect(failed.failure == .attemptsExhausted)
        #expect(failed.lastErrorClass == .transient)
        #expect(failed.nextAttemptAt == nil)
        #expect(try await store.leaseDue(now: Fixtures.t0 + 10_000, limit: 5, leaseFor: 30).isEmpty)
    }

    @Test(arguments: StoreFactory.all)
    func aCrashedWorkersRowIsLeasedAgainWhenItsLeaseRunsOut(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let record = try await accept(subject)
        _ = try await store.leaseDue(now: Fixtures.t0, limit: 1, leaseFor: 30)
        // The worker dies without finishing.
        #expect(try await store.leaseDue(now: Fixtures.t0 + 29, limit: 1, leaseFor: 30).isEmpty)
        let recovered = try await store.leaseDue(now: Fixtures.t0 + 30, limit: 1, leaseFor: 30)
        #expect(recovered.map(\.id) == [record.id])
        #expect(recovered.first?.attempts == 2)
        #expect(recovered.first?.leaseExpiresAt == Fixtures.t0 + 60)
        // The first worker comes back late: its attempt is no longer the delivery's.
        await #expect(throws: StoreError.leaseLost(record.id, status: .sending)) {
            try await store.finish(
                id: record.id,
                attempt: 1,
                outcome: .sent(reply: "250", at: Fixtures.t0 + 31),
                audit: []
            )
        }
        try await store.finish(
            id: record.id,
            attempt: 2,
            outcome: .sent(reply: "250", at: Fixtures.t0 + 32),
            audit: []
        )
        let sent = try #require(try await store.delivery(id: record.id))
        #expect(sent.status == .sent)
    }

    @Test(arguments: StoreFactory.all)
    func aConfigurationRetryDoesNotUseUpAnAttempt(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let record = try await accept(subject)
        _ = try await store.leaseDue(now: Fixtures.t0, limit: 1, leaseFor: 30)
        try await store.finish(
            id: record.id,
            attempt: 1,
            outcome: .retry(
                at: Fixtures.t0 + 5,
                errorClass: .configuration,
                error: "535 auth",
                countsAsAttempt: false
            ),
            audit: []
        )
        let retrying = try #require(try await store.delivery(id: record.id))
        #expect(retrying.attempts == 0)
        #expect(retrying.status == .retrying)
        #expect(try await store.leaseDue(now: Fixtures.t0 + 5, limit: 1, leaseFor: 30).map(\.attempts) == [1])
    }

    @Test(arguments: StoreFactory.all)
    func concurrentLeasersNeverShareARow(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        for index in 0..<60 {
            _ = try await accept(subject, at: Fixtures.t0 + Double(index) / 1000)
        }
        let leasedIDs = try await withThrowingTaskGroup(of: [UUID].self) { group in
            for _ in 0..<6 {
                group.addTask {
                    var mine: [UUID] = []
                    while true {
                        let batch = try await store.leaseDue(now: Fixtures.t0 + 1, limit: 4, leaseFor: 30)
                        if batch.isEmpty { return mine }
                        mine += batch.map(\.id)
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(leasedIDs.count == 60)
        #expect(Set(leasedIDs).count == 60)
        #expect(try await store.stats() == StoreStats(waiting: 0, sending: 60, oldestWaitingCreatedAt: nil))
    }

    @Test(arguments: StoreFactory.all)
    func leaseTakesTheOldestFirstUpToTheLimit(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let newer = try await accept(subject, at: Fixtures.t0 + 2)
        let older = try await accept(subject, at: Fixtures.t0 + 1)
        _ = try await accept(subject, at: Fixtures.t0 + 3)
        let leased = try await subject.store.leaseDue(now: Fixtures.t0 + 10, limit: 2, leaseFor: 30)
        #expect(leased.map(\.id) == [older.id, newer.id])
        await #expect(throws: StoreError.self) {
            try await subject.store.leaseDue(now: Fixtures.t0, limit: 0, leaseFor: 30)
        }
    }
}
