import Audit
import Foundation
import Store
import Testing

/// Contract: batches and their items, idempotent by key and by position, on every store.
@Suite struct BatchContractTests {
    static func batch(key: String = "batch-key", hash: String = "hash-a", rate: Int = 20) -> BatchRecord {
        BatchRecord(
            id: UUID(),
            apiKeyID: "backend",
            idempotencyKey: key,
            requestHash: hash,
            anyRecipient: false,
            sourceIP: "192.0.2.10",
            requestID: "req-1",
            common: #"{"reason":"breach"}"#,
            rate: rate,
            createdAt: Fixtures.t0
        )
    }

    static func items(_ positions: ClosedRange<Int>) -> [NewBatchItem] {
        positions.map { NewBatchItem(position: $0, item: "\"\(UUID().uuidString.lowercased())\"") }
    }

    @Test(arguments: StoreFactory.all)
    func createIsIdempotentByKeyAndResumesAnUnfinishedIngest(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        guard case .created(let created) = try await store.createBatch(Self.batch()) else {
            Issue.record("not created")
            return
        }
        #expect(created.status == .ingesting && !created.ingestComplete)
        try await store.addBatchItems(batchID: created.id, Self.items(1...3))
        // A crash, then the same upload again: the stored positions stay, the rest is added.
        guard case .existing(let resumed) = try await store.createBatch(Self.batch()) else {
            Issue.record("not found again")
            return
        }
        #expect(resumed.id == created.id)
        let again = Self.items(1...5)
        try await store.addBatchItems(batchID: created.id, again)
        try await store.addBatchItems(
            batchID: created.id,
            [NewBatchItem(position: 6, item: nil, invalidReason: "line: is not JSON")]
        )
        let head = try await store.auditHead()
        let done = try await store.completeBatchIngest(
            id: created.id,
            total: 6,
            audit: AuditDraft(at: Fixtures.t0, actor: "backend", action: .batchCreated, outcome: "running")
        )
        #expect(done.status == .running && done.ingestComplete && done.total == 6)
        #expect(try await store.auditHead() == head + 1)
        // Completing again changes nothing and appends nothing.
        _ = try await store.completeBatchIngest(
            id: created.id,
            total: 6,
            audit: AuditDraft(at: Fixtures.t0, actor: "backend", action: .batchCreated)
        )
        #expect(try await store.auditHead() == head + 1)
        let counts = try await store.batchCounts(id: created.id)
        #expect(counts.outcomes == [.pending: 5, .invalid: 1])
        let page = try await store.batchItems(BatchItemQuery(batchID: created.id, limit: 200))
        #expect(page.items.map(\.position) == [1, 2, 3, 4, 5, 6])
        #expect(page.items[5].reason == "line: is not JSON" && page.items[5].item == nil)
        // Positions 1-3 kept their first item: a resumed upload never replaces one.
        #expect(page.items.prefix(3).map(\.item) != again.prefix(3).map(\.item))

        #expect(try await store.createBatch(Self.batch(hash: "hash-b")) == .keyReused)
        guard case .existing(let replay) = try await store.createBatch(Self.batch()) else {
            Issue.record("no replay")
            return
        }
        #expect(replay.ingestComplete)
    }

    @Test(arguments: StoreFactory.all)
    func itemsPageByPositionAndFilterByOutcome(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        guard case .created(let batch) = try await store.createBatch(Self.batch()) else { return }
        try await store.addBatchItems(batchID: batch.id, Self.items(1...25))
        var seen: [Int] = []
        var cursor: String?
        repeat {
            let page = try await store.batchItems(BatchItemQuery(batchID: batch.id, cursor: cursor, limit: 10))
            seen += page.items.map(\.position)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen == Array(1...25))
        try await store.recordBatchItems(
            batchID: batch.id,
            [BatchItemRecord(position: 7, item: nil, outcome: .notFound, reason: "gone")],
            at: Fixtures.t0
        )
        let notFound = try await store.batchItems(BatchItemQuery(batchID: batch.id, outcome: .notFound))
        #expect(notFound.items.map(\.position) == [7])
        #expect(notFound.items.first?.reason == "gone")
        await #expect(throws: StoreError.invalidQuery(parameter: "cursor", reason: "not a cursor of this list")) {
            try await store.batchItems(BatchItemQuery(batchID: batch.id, cursor: "x"))
        }
    }

    @Test(arguments: StoreFactory.all)
    func runnerLeasesRecordsOutcomesOnceAndFinishes(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        guard case .created(let batch) = try await store.createBatch(Self.batch()) else { return }
        try await store.addBatchItems(batchID: batch.id, Self.items(1...3))
        // Still ingesting: no runner takes it.
        #expect(try await store.leaseBatches(owner: "a", now: Fixtures.t0, leaseFor: 10).isEmpty)
        _ = try await store.completeBatchIngest(
            id: batch.id,
            total: 3,
            audit: AuditDraft(at: Fixtures.t0, actor: "backend", action: .batchCreated)
        )
        #expect(try await store.leaseBatches(owner: "a", now: Fixtures.t0, leaseFor: 10).map(\.id) == [batch.id])
        // Another runner gets it only once the lease ran out.
        #expect(try await store.leaseBatches(owner: "b", now: Fixtures.t0 + 5, leaseFor: 10).isEmpty)
        #expect(try await store.leaseBatches(owner: "b", now: Fixtures.t0 + 11, leaseFor: 10).map(\.id) == [batch.id])

        let delivery = try #require(try await store.accept(Fixtures.newDelivery(chain: subject.chain)).accepted)
        #expect(try await store.queuedDeliveries(now: Fixtures.t0 + 1) == 1)
        let pending = try await store.pendingBatchItems(batchID: batch.id, limit: 2)
        #expect(pending.map(\.position) == [1, 2])
        var accepted = pending[0]
        accepted.outcome = .accepted
        accepted.deliveryID = delivery.id
        accepted.identityID = delivery.identityID
        accepted.recipientMasked = "j***@e***.com"
        var cooldown = pending[1]
        cooldown.outcome = .cooldown
        cooldown.reason = "recently"
        try await store.recordBatchItems(batchID: batch.id, [accepted, cooldown], at: Fixtures.t0)
        // An outcome is recorded once: a second record of the same position changes nothing.
        var again = pending[1]
        again.outcome = .notFound
        try await store.recordBatchItems(batchID: batch.id, [again], at: Fixtures.t0)
        var counts = try await store.batchCounts(id: batch.id)
        #expect(counts.outcomes == [.accepted: 1, .cooldown: 1, .pending: 1])
        #expect(counts.deliveries == [.queued: 1])
        #expect(try await store.batch(id: batch.id)?.status == .running)

        let last = try #require(try await store.pendingBatchItems(batchID: batch.id, limit: 10).first)
        var invalid = last
        invalid.outcome = .invalid
        try await store.recordBatchItems(batchID: batch.id, [invalid], at: Fixtures.t0 + 2)
        let finished = try #require(try await store.batch(id: batch.id))
        #expect(finished.status == .done && finished.finishedAt == Fixtures.t0 + 2)
        counts = try await store.batchCounts(id: batch.id)
        #expect(counts.outcomes[.pending] == nil)
    }

    @Test(arguments: StoreFactory.all)
    func pauseResumeAndCancelMoveOnlyFromTheirStates(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        guard case .created(let batch) = try await store.createBatch(Self.batch()) else { return }
        try await store.addBatchItems(batchID: batch.id, Self.items(1...4))
        _ = try await store.completeBatchIngest(
            id: batch.id,
            total: 4,
            audit: AuditDraft(at: Fixtures.t0, actor: "backend", action: .batchCreated)
        )
        let paused = try await store.changeBatchStatus(
            id: batch.id,
            from: [.running],
            to: .paused,
            at: Fixtures.t0,
            reason: "desk: waiting for legal",
            audit: nil
        )
        #expect(paused?.batch.status == .paused && paused?.batch.pausedReason == "desk: waiting for legal")
        #expect(try await store.leaseBatches(owner: "a", now: Fixtures.t0, leaseFor: 10).isEmpty)
        #expect(
            try await store.changeBatchStatus(
                id: batch.id,
                from: [.running],
                to: .paused,
                at: Fixtures.t0,
                reason: nil,
                audit: nil
            ) == nil
        )
        let resumed = try await store.changeBatchStatus(
            id: batch.id,
            from: [.paused],
            to: .running,
            at: Fixtures.t0,
            reason: "desk: go",
            audit: nil
        )
        #expect(resumed?.batch.status == .running && resumed?.batch.pausedReason == nil)
        let head = try await store.auditHead()
        let cancel = try #require(try await Self.cancel(store, batch, from: [.running, .paused], at: Fixtures.t0 + 3))
        #expect(cancel.cancelledItems == 4)
        #expect(cancel.batch.status == .cancelled && cancel.batch.finishedAt == Fixtures.t0 + 3)
        let event = try #require(try await store.auditEvents(afterSeq: head, limit: 1).first)
        #expect(event.action == .batchCancelled && event.details["cancelled_items"] == "4")
        #expect(try await store.batchCounts(id: batch.id).outcomes == [.cancelled: 4])
        #expect(try await store.pendingBatchItems(batchID: batch.id, limit: 10).isEmpty)
        // What the runner records after the cancel changes nothing: a cancelled item stays cancelled.
        try await store.recordBatchItems(
            batchID: batch.id,
            [
                BatchItemRecord(position: 1, item: nil, outcome: .accepted, deliveryID: UUID()),
                BatchItemRecord(position: 2, item: nil, outcome: .notFound),
            ],
            at: Fixtures.t0
        )
        #expect(try await store.batchCounts(id: batch.id).outcomes == [.cancelled: 4])
    }

    @Test(arguments: StoreFactory.all)
    func cancelStopsTheDeliveriesNoWorkerHasTakenYet(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let (store, chain) = (subject.store, subject.chain)
        guard case .created(let batch) = try await store.createBatch(Self.batch()) else { return }
        try await store.addBatchItems(batchID: batch.id, Self.items(1...3))
        _ = try await store.completeBatchIngest(
            id: batch.id,
            total: 3,
            audit: AuditDraft(at: Fixtures.t0, actor: "backend", action: .batchCreated)
        )
        var deliveries: [DeliveryRecord] = []
        for _ in 1...2 {
            guard case .accepted(let record, _) = try await store.accept(Fixtures.newDelivery(chain: chain)) else {
                Issue.record("not accepted")
                return
            }
            deliveries.append(record)
        }
        // A worker has one of them in its hands; the other still waits in the queue.
        let taken = try #require(try await store.leaseDue(now: Fixtures.t0, limit: 1, leaseFor: 60).first)
        let waiting = try #require(deliveries.first { $0.id != taken.id })
        try await store.recordBatchItems(
            batchID: batch.id,
            [
                BatchItemRecord(position: 1, item: nil, outcome: .accepted, deliveryID: waiting.id),
                BatchItemRecord(position: 2, item: nil, outcome: .accepted, deliveryID: taken.id),
            ],
            at: Fixtures.t0
        )
        let head = try await store.auditHead()
        let cancel = try #require(try await Self.cancel(store, batch, at: Fixtures.t0 + 1))
        // The pending item and the queued delivery's item; the one being sent goes on.
        #expect(cancel.cancelledItems == 2 && cancel.onTheWire == 1)
        let stopped = try #require(try await store.delivery(id: waiting.id))
        #expect(stopped.status == .failed && stopped.failure == .cancelled)
        #expect(try await store.delivery(id: taken.id)?.status == .sending)
        #expect(try await store.batchCounts(id: batch.id).outcomes == [.cancelled: 2, .accepted: 1])
        #expect(try await store.leaseDue(now: Fixtures.t0 + 2, limit: 10, leaseFor: 60).isEmpty)
        let events = try await store.auditEvents(afterSeq: head, limit: 10)
        #expect(events.map(\.action) == [.emailFailed, .batchCancelled])
        #expect(events.first?.deliveryID == waiting.id && events.first?.outcome == "cancelled")
        #expect(events.first?.actor == "desk" && events.first?.details["batch_id"] == batch.id.uuidString.lowercased())
        #expect(events.last?.details["cancelled_items"] == "2" && events.last?.details["on_the_wire"] == "1")
        #expect(try await store.verifyAudit(chain: chain).isOK)
    }

    /// Cancels `batch` (if it is in a state of `from`) as `desk` at `at`.
    static func cancel(
        _ store: any GatewayStore,
        _ batch: BatchRecord,
        from: Set<BatchStatus> = [.running],
        at: Date
    ) async throws -> BatchChange? {
        try await store.changeBatchStatus(
            id: batch.id,
            from: from,
            to: .cancelled,
            at: at,
            reason: nil,
            audit: AuditDraft(at: at, actor: "desk", action: .batchCancelled)
        )
    }

    /// A running batch with `count` pending items, its ingest complete.
    static func running(_ store: any GatewayStore, count: Int) async throws -> BatchRecord {
        guard case .created(let batch) = try await store.createBatch(Self.batch()) else {
            throw StoreError.database("not created")
        }
        try await store.addBatchItems(batchID: batch.id, Self.items(1...count))
        return try await store.completeBatchIngest(
            id: batch.id,
            total: count,
            audit: AuditDraft(at: Fixtures.t0, actor: "backend", action: .batchCreated)
        )
    }

    @Test(arguments: StoreFactory.all)
    func noItemIsAcceptedOnceItsBatchStopsRunning(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let (store, chain) = (subject.store, subject.chain)
        let batch = try await Self.running(store, count: 3)
        // Accepted while running, its outcome not yet recorded (the runner is between the two).
        let first = Fixtures.newDelivery(chain: chain, key: batch.itemKey(position: 1))
        guard case .accepted = try await store.accept(first) else {
            Issue.record("a running batch's item was refused")
            return
        }
        let change = try #require(try await Self.cancel(store, batch, at: Fixtures.t0 + 1))
        // Found by its key: its delivery fails `cancelled`; every item is counted once.
        #expect(change.cancelledItems == 3 && change.onTheWire == 0)
        #expect(try await store.delivery(id: first.delivery.id)?.failure == .cancelled)
        #expect(try await store.batchCounts(id: batch.id).outcomes == [.cancelled: 3])
        // After the cancel, an item's accept is refused in its own transaction, and stores nothing.
        let late = Fixtures.newDelivery(chain: chain, key: batch.itemKey(position: 2))
        await #expect(throws: StoreError.batchNotRunning) { try await store.accept(late) }
        #expect(try await store.delivery(id: late.delivery.id) == nil)
        // The key is the creator's: another key's request under the same text is no batch item.
        let other = Fixtures.newDelivery(chain: chain, key: batch.itemKey(position: 2), apiKeyID: "support")
        guard case .accepted = try await store.accept(other) else {
            Issue.record("another key's request was refused")
            return
        }
        #expect(try await store.verifyAudit(chain: chain).isOK)
    }

    @Test(arguments: StoreFactory.all)
    func aCancelDuringTheUploadStopsIt(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        guard case .created(let batch) = try await store.createBatch(Self.batch()) else { return }
        #expect(try await store.addBatchItems(batchID: batch.id, Self.items(1...3)))
        let cancel = try await Self.cancel(store, batch, from: [.ingesting], at: Fixtures.t0)
        #expect(cancel?.cancelledItems == 3)
        #expect(try await store.addBatchItems(batchID: batch.id, Self.items(4...6)) == false)
        let head = try await store.auditHead()
        let done = try await store.completeBatchIngest(
            id: batch.id,
            total: 3,
            audit: AuditDraft(at: Fixtures.t0, actor: "backend", action: .batchCreated, outcome: "running")
        )
        #expect(done.status == .cancelled && done.total == 3)
        #expect(try await store.batchCounts(id: batch.id).outcomes == [.cancelled: 3])
        let created = try #require(try await store.auditEvents(afterSeq: head, limit: 1).first)
        #expect(created.action == .batchCreated && created.outcome == "cancelled")
    }
}
