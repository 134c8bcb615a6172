import Audit
import Foundation
import GatewayAPI
import Store
import Testing

/// Contract: a key claimed now stores no answer, and its replay shows the delivery as it was
/// queued — the first answer again, byte for byte, whatever happened to the delivery since; a key
/// 0.1.0 claimed (with the answer's bytes in its record) replays those bytes.
@Suite struct ReplayContractTests {
    /// An instant a hair's breadth (0.4 µs) below a millisecond: kept to the microsecond, it rounds
    /// up across the millisecond the answer shows.
    static let edge = Date(timeIntervalSince1970: 1_750_000_000.123_999_6)

    /// What the API answers for the delivery it queued: its view (the server's `DeliveryResponse`).
    static func firstAnswer(_ result: AcceptResult) throws -> Data {
        DeliveryView(try #require(result.accepted)).json()
    }

    @Test(arguments: StoreFactory.all)
    func aReplayShowsTheDeliveryAsItWasQueuedByteForByte(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let recovery = Fixtures.newDelivery(chain: subject.chain, key: "k-1", at: Self.edge)
        let courier = CourierContractTests.courier(chain: subject.chain, dedupKey: "dedup-1", at: Self.edge + 1)
        var firsts: [UUID: Data] = [:]
        for new in [recovery, courier] {
            let result = try await store.accept(new)
            firsts[new.delivery.id] = try Self.firstAnswer(result)
        }
        // Both attempted since: one sent, one failed after a retry.
        let leased = try await store.leaseDue(now: Self.edge + 2, limit: 10, leaseFor: 30)
        #expect(leased.count == 2)
        try await store.finish(
            id: recovery.delivery.id,
            attempt: 1,
            outcome: .sent(reply: "250 2.0.0 Ok", at: Self.edge + 3),
            audit: []
        )
        try await store.finish(
            id: courier.delivery.id,
            attempt: 1,
            outcome: .failed(failure: .rejected, errorClass: .permanent, error: "550 no such user"),
            audit: []
        )

        for new in [recovery, courier] {
            let id = new.delivery.id
            var again = new
            again.delivery.id = UUID()
            again.delivery.createdAt = new.delivery.createdAt + 10
            // Found before any other work, and again by the accept's own look: no answer stored.
            let key = new.idempotency
            #expect(
                try await store.idempotentAnswer(apiKeyID: key.apiKeyID, key: key.key, now: Self.edge + 10)
                    .map { Replayed(id: $0.deliveryID, storedAnswer: $0.storedAnswer) } == Replayed(id: id)
            )
            let replay = try await store.accept(again)
            #expect(replay.replayed == Replayed(id: id))
            guard case .replay(let now, _) = replay else { continue }
            #expect(now.status.isFinal)
            let replayed = DeliveryView(now.asQueued).json()
            #expect(replayed == firsts[id], "\(String(decoding: replayed, as: UTF8.self))")
        }
    }

    @Test(arguments: StoreFactory.all)
    func aKeyThatStoredItsAnswerReplaysTheStoredBytes(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        // What 0.1.0 wrote in the record's columns: the status and the answer's bytes.
        let bytes = Data(#"{"id":"as 0.1.0 answered","status":"queued"}"#.utf8)
        let new = Fixtures.newDelivery(chain: subject.chain, key: "k-old")
        let accepted = try #require(try await subject.store.accept(new).accepted)
        try await subject.execute(
            """
            UPDATE idempotency_records SET response_status = 202, response_body = \(subject.bytesLiteral(bytes))
            WHERE api_key_id = 'backend' AND key = 'k-old'
            """
        )
        #expect(
            try await subject.store.idempotentAnswer(apiKeyID: "backend", key: "k-old", now: Fixtures.t0 + 1)
                .map { Replayed(id: $0.deliveryID, storedAnswer: $0.storedAnswer) }
                == Replayed(id: accepted.id, storedAnswer: bytes)
        )
        var again = Fixtures.newDelivery(chain: subject.chain, key: "k-old", at: Fixtures.t0 + 1)
        again.delivery.id = UUID()
        #expect(try await subject.store.accept(again).replayed == Replayed(id: accepted.id, storedAnswer: bytes))
    }
}
