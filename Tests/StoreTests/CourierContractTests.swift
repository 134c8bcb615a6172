import Audit
import Foundation
import Store
import Testing

/// Contract: rows of Kratos's courier (no identity, method or template; a sealed payload) are stored
/// and read back whole, filtered by source and template type, deduplicated through their key, and
/// lose their sealed payload at a final state, never before.
@Suite struct CourierContractTests {
    static let sealed = Data([0x01] + Array(repeating: 0xA5, count: 60))

    /// A courier message as the receiver stores it: keyed by its dedup key, no cooldown.
    static func courier(
        chain: AuditChain,
        dedupKey: String = UUID().uuidString,
        type: String = "registration_code_valid",
        at: Date = Fixtures.t0
    ) -> NewDelivery {
        var new = Fixtures.newDelivery(chain: chain, key: dedupKey, apiKeyID: "kratos_courier:kratos", at: at)
        new.delivery = new.delivery.with {
            $0.reason = nil
            $0.content = .courier(
                SealedCourierMessage(
                    identityID: nil,
                    templateType: CourierTemplateType(rawValue: type)!,  // every caller passes a known type
                    locale: $0.locale,
                    expiresIn: $0.expiresIn,
                    sealed: sealed
                )
            )
        }
        new.idempotency.requestHash = dedupKey
        new.audit.identityID = nil
        new.audit.details = ["source": "kratos_courier", "template_type": type]
        return new
    }

    @Test(arguments: StoreFactory.all)
    func aCourierRowIsStoredAndReadBackWhole(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let new = Self.courier(chain: subject.chain)
        let stored = try #require(try await store.accept(new).accepted)
        #expect(stored == new.queued)
        #expect(stored.identityID == nil && stored.method == .code && stored.template == nil)
        #expect(stored.sealedPayload == Self.sealed)
        #expect(try await store.delivery(id: stored.id) == stored)
        let admin = try #require(try await store.accept(Fixtures.newDelivery(chain: subject.chain)).accepted)
        #expect(admin.source == .adminAPI && admin.templateType == nil && admin.sealedPayload == nil)

        #expect(try await store.deliveries(DeliveryQuery(source: .kratosCourier)).items.map(\.id) == [stored.id])
        #expect(try await store.deliveries(DeliveryQuery(source: .adminAPI)).items.map(\.id) == [admin.id])
        #expect(
            try await store.deliveries(DeliveryQuery(templateType: "registration_code_valid")).items.map(\.id)
                == [stored.id]
        )
        #expect(try await store.deliveries(DeliveryQuery(templateType: "recovery_valid")).items.isEmpty)
        #expect(try await store.verifyAudit(chain: subject.chain).isOK)
    }

    @Test(arguments: StoreFactory.all)
    func theSealedPayloadStaysThroughRetriesAndGoesAtAFinalState(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let toSend = try #require(try await store.accept(Self.courier(chain: subject.chain)).accepted)
        let toFail = try #require(
            try await store.accept(Self.courier(chain: subject.chain, at: Fixtures.t0 + 1)).accepted
        )

        let leased = try await store.leaseDue(now: Fixtures.t0 + 2, limit: 10, leaseFor: 30)
        #expect(leased.map(\.sealedPayload) == [Self.sealed, Self.sealed])
        try await store.finish(
            id: toSend.id,
            attempt: 1,
            outcome: .retry(at: Fixtures.t0 + 3, errorClass: .transient, error: "421 try later"),
            audit: []
        )
        let retrying = try #require(try await store.delivery(id: toSend.id))
        #expect(retrying.sealedPayload == Self.sealed)
        try await store.finish(
            id: toFail.id,
            attempt: 1,
            outcome: .failed(failure: .expired, errorClass: .permanent, error: "the message's lifetime has passed"),
            audit: []
        )
        let failed = try #require(try await store.delivery(id: toFail.id))
        #expect(failed.status == .failed && failed.sealedPayload == nil)

        _ = try await store.leaseDue(now: Fixtures.t0 + 4, limit: 10, leaseFor: 30)
        try await store.finish(
            id: toSend.id,
            attempt: 2,
            outcome: .sent(reply: "250 ok", at: Fixtures.t0 + 5),
            audit: []
        )
        let sent = try #require(try await store.delivery(id: toSend.id))
        #expect(sent.status == .sent && sent.sealedPayload == nil)
        #expect(try await store.delivery(id: toSend.id)?.sealedPayload == nil)
        #expect(try await store.delivery(id: toFail.id)?.sealedPayload == nil)
    }

    @Test(arguments: StoreFactory.all)
    func oneMessagePostedManyTimesAtOnceIsStoredOnce(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let chain = subject.chain
        let results = try await concurrently(20) { _ in
            try await store.accept(Self.courier(chain: chain, dedupKey: "c2VhbGVkLWRlZHVwLWtleQ=="))
        }
        let accepted = results.compactMap(\.accepted)
        #expect(accepted.count == 1)
        let replays = results.filter {
            $0.replayed?.id == accepted.first?.id && $0.replayed?.storedAnswer == nil
        }
        #expect(replays.count == 19)
        #expect(try await store.deliveries(DeliveryQuery(source: .kratosCourier)).items.count == 1)
        #expect(try await store.auditEvents(afterSeq: 0, limit: 100).count == 1)
    }
}
