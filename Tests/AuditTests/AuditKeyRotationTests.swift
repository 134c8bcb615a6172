import Foundation
import Testing

@testable import Audit

/// Events name their key, a key ring verifies each with its own key, and `audit.key_rotated`
/// events move the chain from one key to the next.
@Suite struct AuditKeyRotationTests {
    let old = try! AuditKey(bytes: [UInt8](repeating: 1, count: 32))
    let new = try! AuditKey(bytes: [UInt8](repeating: 2, count: 32))

    /// `count` events appended to `log` by `chain`.
    func append(_ count: Int, to log: inout [AuditEvent], with chain: AuditChain, action: AuditAction = .emailSent) {
        for _ in 0..<count {
            let seq = Int64(log.count + 1)
            let draft = AuditDraft(at: Date(), actor: "backend", action: action, details: ["n": String(seq)])
            log.append(chain.seal(draft, seq: seq, prevHash: log.last?.hash ?? AuditEvent.genesisHash))
        }
    }

    /// A log of 3 events under `old`, the rotation to `new` at seq 4, then 2 events under `new`.
    func rotatedLog() -> [AuditEvent] {
        var log: [AuditEvent] = []
        append(3, to: &log, with: AuditChain(key: old))
        let rotating = AuditChain(keys: AuditKeyRing(current: new, previous: [old]))
        log.append(
            rotating.seal(AuditKeyRotation.draft(from: old.id, at: Date()), seq: 4, prevHash: log[2].hash)
        )
        append(2, to: &log, with: rotating)
        return log
    }

    @Test func aKeyIDNamesTheKeyWithoutShowingIt() {
        #expect(old.id.count == 16 && Hex.decode(old.id) != nil)
        #expect(old.id != new.id)
        #expect(try! AuditKey(bytes: [UInt8](repeating: 1, count: 32)).id == old.id)
        #expect(!Hex.encode([UInt8](repeating: 1, count: 32)).contains(old.id))
        #expect(!"\(old)".contains(Hex.encode([UInt8](repeating: 1, count: 8))))
    }

    @Test func everyEventNamesItsKeyAndAVersion1EventKeepsItsHash() {
        var log: [AuditEvent] = []
        append(2, to: &log, with: AuditChain(key: old))
        #expect(log.allSatisfy { $0.keyID == old.id })
        // An event sealed before events named their key: version 1, hashed without a key id.
        var v1 = log[0]
        v1.keyID = nil
        v1.hash = AuditChain.mac(of: v1, key: old)
        #expect(v1.hash != log[0].hash)
        #expect(AuditCanonicalEncoding.encode(v1).starts(with: Array("RGAUDIT1".utf8)))
        #expect(AuditCanonicalEncoding.encode(log[0]).starts(with: Array("RGAUDIT2".utf8)))
        var mixed = [v1]
        mixed.append(AuditChain(key: old).seal(log[1].draft, seq: 2, prevHash: v1.hash))
        #expect(AuditChain(key: old).verify(mixed).isOK)
        // A version-1 event is checked with every key held; none of them: edited.
        #expect(AuditChain(keys: AuditKeyRing(current: new, previous: [old])).verify([v1]).isOK)
        #expect(AuditChain(key: new).verify([v1]) == .broken(firstBadSeq: 1, reason: .hashMismatch))
    }

    @Test func verificationWalksAcrossARotationSealedUnderBothKeys() throws {
        let log = rotatedLog()
        let rotation = log[3]
        #expect(rotation.action == .auditKeyRotated && rotation.keyID == new.id)
        #expect(rotation.details["from_key_id"] == old.id && rotation.details["to_key_id"] == new.id)
        #expect(rotation.details["old_key_mac"]?.count == 64)
        let ring = AuditChain(keys: AuditKeyRing(current: new, previous: [old]))
        #expect(ring.verify(log) == .ok(events: 6, head: log[5].hash))
        #expect(ring.sealingKeyID(of: log[2]) == old.id)
        // A tail that starts after the rotation needs only the new key.
        var tail = AuditChain(key: new).verifier(after: 4, prevHash: log[4].prevHash)
        for event in log[4...] { tail.feed(event) }
        #expect(tail.result.isOK)
    }

    @Test func aMissingOldKeyIsNamedNotCalledAnEdit() {
        let log = rotatedLog()
        let result = AuditChain(key: new).verify(log)
        #expect(result == .broken(firstBadSeq: 1, reason: .unknownKey(seq: 1, keyID: old.id)))
        guard case .broken(_, let reason) = result else { return }
        #expect(
            reason.description
                == "event seq 1 was sealed by key id \(old.id), which is not in audit.key_file or audit.previous_key_files"
        )
    }

    @Test func theOldKeyAfterItsRotationIsABreakNamingIt() {
        var log = rotatedLog()
        // A gateway still on the old key appends after the rotation (it holds the old key only).
        log.removeLast(2)
        append(1, to: &log, with: AuditChain(key: old))
        let ring = AuditChain(keys: AuditKeyRing(current: new, previous: [old]))
        #expect(
            ring.verify(log) == .broken(firstBadSeq: 5, reason: .sealedAfterRotation(keyID: old.id, rotationSeq: 4))
        )
    }

    @Test func anotherKeyWithoutARotationIsABreak() {
        var log: [AuditEvent] = []
        append(2, to: &log, with: AuditChain(key: old))
        append(1, to: &log, with: AuditChain(key: new))
        let ring = AuditChain(keys: AuditKeyRing(current: new, previous: [old]))
        #expect(ring.verify(log) == .broken(firstBadSeq: 3, reason: .keySwitch(from: old.id, to: new.id)))
    }

    @Test func aRotationNotAgreedByTheOldKeyIsABreak() {
        let ring = AuditChain(keys: AuditKeyRing(current: new, previous: [old]))
        // Made by someone holding only the new key: old_key_mac under another key.
        let stranger = try! AuditKey(bytes: [UInt8](repeating: 3, count: 32))
        var log = rotatedLog()
        var forged = log[3]
        var unsigned = forged
        unsigned.details["old_key_mac"] = nil
        forged.details["old_key_mac"] = AuditChain.mac(of: unsigned, key: stranger)
        forged.hash = AuditChain.mac(of: forged, key: new)
        log[3] = forged
        #expect(ring.verify(log[...3]) == .broken(firstBadSeq: 4, reason: .malformedRotation))
        // A rotation naming a key that is not held names that key.
        var orphaned = rotatedLog()
        orphaned[3].details["from_key_id"] = stranger.id
        orphaned[3].hash = AuditChain.mac(of: orphaned[3], key: new)
        #expect(ring.verify(orphaned[...3]) == .broken(firstBadSeq: 4, reason: .unknownKey(seq: 4, keyID: stranger.id)))
    }
}
