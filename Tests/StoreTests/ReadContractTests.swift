import Audit
import Foundation
import Store
import Testing

/// Contract: lists, filters, cursors, audit queries, purge, migrate.
@Suite struct ReadContractTests {
    @Test(arguments: StoreFactory.all)
    func auditHeadIsTheLastSequenceNumber(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        #expect(try await subject.store.auditHead() == 0)
        for _ in 0..<5 {
            _ = try await subject.store.appendAudit(Fixtures.draft(.emailRefused))
        }
        _ = try #require(try await subject.store.accept(Fixtures.newDelivery(chain: subject.chain)).accepted)
        #expect(try await subject.store.auditHead() == 6)
        #expect(try await subject.store.auditEvents(afterSeq: 5, limit: 10).map(\.seq) == [6])
    }

    @Test(arguments: StoreFactory.all)
    func deliveriesPageNewestFirstWithOpaqueCursors(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        var ids: [UUID] = []
        for index in 0..<25 {
            // Pairs share a creation time: the cursor must still neither skip nor repeat.
            let new = Fixtures.newDelivery(chain: subject.chain, at: Fixtures.t0 + Double(index / 2))
            ids.append(try #require(try await subject.store.accept(new).accepted).id)
        }
        var seen: [Delivery] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await subject.store.deliveries(DeliveryQuery(cursor: cursor, limit: 10))
            seen += page.items
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil
        #expect(pages == 3)
        #expect(seen.count == 25)
        #expect(Set(seen.map(\.id)) == Set(ids))
        #expect(seen.map(\.createdAt) == seen.map(\.createdAt).sorted(by: >))

        await #expect(throws: StoreError.invalidQuery(parameter: "cursor", reason: "not a cursor of this list")) {
            try await subject.store.deliveries(DeliveryQuery(cursor: "bm9wZQ"))
        }
        await #expect(throws: StoreError.invalidQuery(parameter: "limit", reason: "must be between 1 and 200, got 201"))
        {
            try await subject.store.deliveries(DeliveryQuery(limit: 201))
        }
    }

    @Test(arguments: StoreFactory.all)
    func deliveriesFilterByIdentityStatusAndTime(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let identity = UUID()
        var mine: [Delivery] = []
        for index in 0..<4 {
            let new = Fixtures.newDelivery(chain: subject.chain, identityID: identity, at: Fixtures.t0 + Double(index))
            mine.append(try #require(try await store.accept(new).accepted))
        }
        _ = try await store.accept(Fixtures.newDelivery(chain: subject.chain, at: Fixtures.t0 + 1))
        _ = try await store.leaseDue(now: Fixtures.t0 + 0.5, limit: 1, leaseFor: 30)

        let byIdentity = try await store.deliveries(DeliveryQuery(identityID: identity))
        #expect(byIdentity.items.map(\.id) == mine.reversed().map(\.id))
        let sending = try await store.deliveries(DeliveryQuery(status: .sending))
        #expect(sending.items.map(\.id) == [mine[0].id])
        let window = try await store.deliveries(
            DeliveryQuery(identityID: identity, createdSince: Fixtures.t0 + 1, createdUntil: Fixtures.t0 + 3)
        )
        #expect(window.items.map(\.id) == [mine[2].id, mine[1].id])
        #expect(try await store.deliveries(DeliveryQuery(status: .failed)).items.isEmpty)
    }

    @Test(arguments: StoreFactory.all)
    func auditEventsFilterAndPageInSeqOrder(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let identity = UUID()
        let new = Fixtures.newDelivery(chain: subject.chain, identityID: identity)
        let record = try #require(try await store.accept(new).accepted)
        for index in 0..<12 {
            _ = try await store.appendAudit(
                Fixtures.draft(.emailRefused, at: Fixtures.t0 + Double(index + 1), actor: index < 6 ? "desk" : "system")
            )
        }
        let byDelivery = try await store.auditEvents(AuditQuery(deliveryID: record.id))
        #expect(byDelivery.items.map(\.seq) == [1])
        #expect(try await store.auditEvents(AuditQuery(identityID: identity)).items.map(\.seq) == [1])
        #expect(try await store.auditEvents(AuditQuery(actor: "desk")).items.map(\.seq) == Array(2...7))
        #expect(try await store.auditEvents(AuditQuery(action: .emailRequested)).items.map(\.seq) == [1])
        let window = try await store.auditEvents(AuditQuery(since: Fixtures.t0 + 3, until: Fixtures.t0 + 5))
        #expect(window.items.map(\.seq) == [4, 5])

        var seqs: [Int64] = []
        var cursor: String?
        repeat {
            let page = try await store.auditEvents(AuditQuery(actor: "system", cursor: cursor, limit: 4))
            seqs += page.items.map(\.seq)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seqs == Array(8...13))
        #expect(try await store.auditEvents(afterSeq: 10, limit: 2).map(\.seq) == [11, 12])

        let stored = try await store.auditEvents(afterSeq: 0, limit: 1)[0]
        #expect(stored.details == ["reason": "ticket #4711", "method": "link"])
        #expect(stored.sourceIP == "192.0.2.10")
        #expect(stored.recipientHash == subject.chain.recipientHash("john.doe@example.com"))
    }

    @Test(arguments: StoreFactory.all)
    func purgeDeletesOnlyExpiredIdempotencyRecords(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        for (index, life) in [10.0, 20, 30, 3600].enumerated() {
            _ = try await store.accept(
                Fixtures.newDelivery(chain: subject.chain, key: "k\(index)", keyExpiresAfter: life)
            )
        }
        #expect(try await store.purgeIdempotency(before: Fixtures.t0 + 25) == 2)
        #expect(try await store.purgeIdempotency(before: Fixtures.t0 + 25) == 0)
        // Purged keys are free again; the others still replay.
        let reused = Fixtures.newDelivery(chain: subject.chain, key: "k0", requestHash: "other")
        #expect(try await store.accept(reused).accepted != nil)
        let replay = Fixtures.newDelivery(chain: subject.chain, key: "k3")
        guard case .replay = try await store.accept(replay) else {
            Issue.record("k3 should still replay")
            return
        }
        // Deliveries and audit events stay.
        #expect(try await store.deliveries(DeliveryQuery()).items.count == 5)
    }

    @Test(arguments: StoreFactory.all)
    func theLastEventOfAnActionIsTheNewest(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        #expect(try await store.lastAuditEvent(action: .emailSent) == nil)
        var sent: [AuditEvent] = []
        for index in 0..<6 {
            let action: AuditAction = index.isMultiple(of: 3) ? .emailSent : .emailRefused
            let event = try await store.appendAudit(Fixtures.draft(action))
            if action == .emailSent { sent.append(event) }
        }
        #expect(try await store.lastAuditEvent(action: .emailSent)?.id == sent.last?.id)
        #expect(try await store.lastAuditEvent(action: .emailRefused)?.seq == 6)
        #expect(try await store.lastAuditEvent(action: .auditCheckpoint) == nil)
    }

    @Test(arguments: StoreFactory.all)
    func theTailCheckVerifiesTheLastEventsAndTheHeadWithTheKey(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        #expect(
            try await store.verifyAuditTail(chain: subject.chain, count: 3)
                == .ok(events: 0, head: AuditEvent.genesisHash)
        )
        for _ in 0..<5 { _ = try await store.appendAudit(Fixtures.draft(.emailRefused)) }
        let events = try await store.auditEvents(afterSeq: 0, limit: 10)
        #expect(try await store.verifyAuditTail(chain: subject.chain, count: 2) == .ok(events: 2, head: events[4].hash))
        #expect(try await store.verifyAuditTail(chain: subject.chain, count: 0) == .ok(events: 5, head: events[4].hash))
        #expect(try await store.verifyAuditTail(chain: subject.chain, count: 9) == .ok(events: 5, head: events[4].hash))
        let other = AuditChain(key: AuditKey.random())
        #expect(
            try await store.verifyAuditTail(chain: other, count: 2)
                == .broken(firstBadSeq: 4, reason: .unknownKey(seq: 4, keyID: subject.chain.keyID))
        )
        #expect(
            try await store.verifyAuditTail(chain: other, count: 0)
                == .broken(firstBadSeq: 1, reason: .unknownKey(seq: 1, keyID: subject.chain.keyID))
        )
    }

    @Test(arguments: StoreFactory.all)
    func migrateIsIdempotentAndPingAnswers(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        _ = try await subject.store.accept(Fixtures.newDelivery(chain: subject.chain))
        try await subject.store.migrate()
        try await subject.store.migrate()
        try await subject.store.ping()
        #expect(try await subject.store.deliveries(DeliveryQuery()).items.count == 1)
        #expect(try await subject.store.verifyAudit(chain: subject.chain).isOK)
    }
}
