import Audit
import Foundation
import Store
import Testing

/// Every store seals with its chain's current key, names it in `key_id`, and appends only after an
/// event of that key, save for the rotation away from the head's key (``AuditHeadRule``).
@Suite struct AuditKeyContractTests {
    /// SQLite seals each event in its request's transaction, so the head's key is checked there.
    /// (PostgreSQL's requests write unlinked and its sequencer checks: `PostgresStoreTests`.)
    @Test(arguments: [StoreFactory.sqlite])
    func anAppendAfterAnotherKeysHeadIsRefusedSaveTheRotation(_ factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let old = subject.chain.keys.current
        let first = try await subject.store.appendAudit(Fixtures.draft(.emailRefused))
        #expect(first.keyID == old.id)
        #expect(try await subject.store.auditEvents(afterSeq: 0, limit: 1) == [first])

        // A replica given another key writes nothing: not an event, not a delivery.
        let new = AuditKey.random()
        let stranger = try subject.reopen(AuditChain(key: new))
        let refusal = StoreError.auditKeyMismatch(seq: 1, keyID: old.id, current: new.id)
        await #expect(throws: refusal) { try await stranger.appendAudit(Fixtures.draft(.emailRefused)) }
        await #expect(throws: refusal) {
            try await stranger.accept(Fixtures.newDelivery(chain: AuditChain(key: new)))
        }
        #expect(try await subject.store.stats().waiting == 0)
        #expect(try await subject.store.auditHead() == 1)
        await stranger.close()

        // Holding the old key as a previous one, it rotates and then writes.
        let rotatedChain = AuditChain(keys: AuditKeyRing(current: new, previous: [old]))
        let rotated = try subject.reopen(rotatedChain)
        let rotation = try await rotated.appendAudit(AuditKeyRotation.draft(from: old.id, at: Fixtures.t0))
        #expect(rotation.keyID == new.id && rotation.details[AuditKeyRotation.toKeyID] == new.id)
        let after = try await rotated.appendAudit(Fixtures.draft(.emailRefused))
        // Now the old key is the stranger, and a second rotation from it is refused too.
        await #expect(throws: StoreError.auditKeyMismatch(seq: 3, keyID: new.id, current: old.id)) {
            try await subject.store.appendAudit(Fixtures.draft(.emailRefused))
        }
        await #expect(throws: StoreError.auditKeyMismatch(seq: 3, keyID: new.id, current: new.id)) {
            try await rotated.appendAudit(AuditKeyRotation.draft(from: old.id, at: Fixtures.t0))
        }
        #expect(try await rotated.verifyAudit(chain: rotatedChain) == .ok(events: 3, head: after.hash))
        // Without the old key, verification names it.
        #expect(
            try await rotated.verifyAudit(chain: AuditChain(key: new))
                == .broken(firstBadSeq: 1, reason: .unknownKey(seq: 1, keyID: old.id))
        )
        await rotated.close()
    }
}
