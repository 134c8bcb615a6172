import Audit
import Foundation
import Testing

@Suite struct AuditCheckpointTests {
    let chain = AuditChain(key: try! AuditKey(bytes: [UInt8](repeating: 1, count: 32)))
    let key = AuditSigningKey(seed: [UInt8](repeating: 7, count: 32))
    let otherKey = AuditSigningKey(seed: [UInt8](repeating: 8, count: 32))

    /// `count` events sealed in a chain, with a checkpoint (signed by `signer`, or after `rotation.after`
    /// events by `rotation.key`) after every `every` events.
    func log(
        _ count: Int,
        checkpointEvery every: Int,
        signer: AuditSigningKey? = nil,
        rotation: (key: AuditSigningKey, after: Int)? = nil
    ) -> [AuditEvent] {
        var events: [AuditEvent] = []
        var digest = AuditDigest()
        func append(_ draft: AuditDraft) {
            let event = chain.seal(
                draft,
                seq: Int64(events.count + 1),
                prevHash: events.last?.hash ?? AuditEvent.genesisHash
            )
            digest.add(event)
            events.append(event)
        }
        let start = Date(timeIntervalSince1970: 1_800_000_000.5)
        for index in 1...count {
            append(
                AuditDraft(
                    at: start.addingTimeInterval(Double(index)),
                    actor: "backend",
                    action: .emailRefused,
                    recipientMasked: "u***@e***.com",
                    outcome: index.isMultiple(of: 3) ? nil : "ok",
                    details: ["reason": "test \(index)"]
                )
            )
            if index.isMultiple(of: every) {
                let checkpoint = AuditCheckpoint(
                    seq: events.last!.seq,
                    digest: digest,
                    head: events.last!.hash,
                    at: start.addingTimeInterval(Double(index) + 0.25),
                    key: rotation.flatMap { index > $0.after ? $0.key : nil } ?? signer ?? key
                )
                append(AuditDraft(at: start, actor: "system", action: .auditCheckpoint, details: checkpoint.details))
            }
        }
        return events
    }

    func digest(_ events: some Sequence<AuditEvent>) -> AuditDigest {
        var digest = AuditDigest()
        for event in events { digest.add(event) }
        return digest
    }

    func verify(_ events: [AuditEvent], with publicKeys: [AuditPublicKey]? = nil) -> AuditExportReport {
        var verifier = AuditExportVerifier(publicKeys: publicKeys ?? [key.publicKey])
        for event in events where !verifier.feed(event) { break }
        return verifier.report
    }

    @Test func theDigestChangesWithEveryFieldAndIsDeterministic() {
        let events = log(3, checkpointEvery: 100)
        let first = digest(events)
        let second = digest(events)
        #expect(first == second)
        #expect(first.hex.count == 64)
        var edited = events
        edited[1].recipientMasked = "x***@e***.com"
        #expect(digest(edited) != first)
    }

    @Test func aCheckpointSignsItsTextAndRoundTripsThroughDetails() throws {
        var digest = AuditDigest()
        let event = log(1, checkpointEvery: 100)[0]
        digest.add(event)
        let checkpoint = AuditCheckpoint(seq: 1, digest: digest, head: event.hash, at: Date(), key: key)
        let parsed = try AuditCheckpoint(details: checkpoint.details)
        #expect(parsed == checkpoint)
        #expect(parsed.isSigned(by: key.publicKey))
        #expect(!parsed.isSigned(by: otherKey.publicKey))
        #expect(
            String(decoding: parsed.message, as: UTF8.self).hasPrefix("recovery-gateway audit checkpoint v1\nseq=1\n")
        )
        #expect(throws: AuditCheckpointError.missingField("signature")) {
            try AuditCheckpoint(details: checkpoint.details.filter { $0.key != "signature" })
        }
    }

    @Test func thePublicKeyReadsBackFromPEMAndBase64() throws {
        let publicKey = key.publicKey
        #expect(publicKey.pem.hasPrefix("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA"))
        #expect(AuditPublicKey(text: publicKey.pem) == publicKey)
        #expect(AuditPublicKey(text: Data(publicKey.raw).base64EncodedString()) == publicKey)
        #expect(AuditPublicKey(text: "not a key") == nil)
        #expect(publicKey.keyID.count == 16)
        #expect(publicKey.keyID != otherKey.publicKey.keyID)
        #expect(!String(describing: key).contains(Data([UInt8](repeating: 7, count: 32)).base64EncodedString()))
    }

    @Test func anIntactExportIsSignedUpToItsLastCheckpoint() throws {
        let events = log(10, checkpointEvery: 4)
        let report = verify(events)
        #expect(report.broken == nil)
        #expect(report.lastSeq == 12)
        #expect(report.checkpoints == 2)
        let last = try #require(report.lastCheckpoint)
        #expect(last.eventSeq == 10)
        #expect(last.checkpoint.seq == 9)
        // seq 10 is the checkpoint itself, 11 and 12 are events after it.
        #expect(report.unsignedTail == 3)
        #expect(report.unsignedTailCheckpoints == 1)
    }

    @Test func anEditedFieldBeforeACheckpointBreaksItsDigest() {
        var events = log(10, checkpointEvery: 4)
        events[2].draft.details["reason"] = "changed"
        #expect(verify(events).broken == AuditExportBreak(seq: 5, reason: .digestMismatch(covers: 4)))
    }

    @Test func deletedAndReorderedEventsBreakTheLinks() {
        var deleted = log(10, checkpointEvery: 4)
        deleted.remove(at: 6)
        #expect(verify(deleted).broken == AuditExportBreak(seq: 8, reason: .link(.sequenceGap(expected: 7, found: 8))))
        var reordered = log(10, checkpointEvery: 4)
        reordered.swapAt(2, 3)
        #expect(verify(reordered).broken?.reason == .link(.sequenceGap(expected: 3, found: 4)))
        var renumbered = reordered
        renumbered[2].seq = 3
        renumbered[3].seq = 4
        #expect(verify(renumbered).broken == AuditExportBreak(seq: 3, reason: .link(.previousHashMismatch)))
    }

    @Test func aForgedOrForeignCheckpointIsRefused() throws {
        var forged = log(10, checkpointEvery: 4)
        forged[4].draft.details["signature"] = Data([UInt8](repeating: 0, count: 64)).base64EncodedString()
        #expect(verify(forged).broken == AuditExportBreak(seq: 5, reason: .badSignature))

        var resigned = log(10, checkpointEvery: 4)
        var checkpoint = try AuditCheckpoint(details: resigned[4].details)
        checkpoint.seq = 3
        resigned[4].draft.details = checkpoint.details
        #expect(verify(resigned).broken == AuditExportBreak(seq: 5, reason: .badSignature))

        let foreign = log(10, checkpointEvery: 4, signer: otherKey)
        #expect(
            verify(foreign).broken
                == AuditExportBreak(
                    seq: 5,
                    reason: .otherKey(found: otherKey.publicKey.keyID, expected: [key.publicKey.keyID])
                )
        )
    }

    @Test func checkpointsOfTwoSigningKeysVerifyWithBothPublicKeysAndSayWhichSignedWhat() {
        let events = log(12, checkpointEvery: 4, rotation: (otherKey, 6))
        let (first, second) = (key.publicKey.keyID, otherKey.publicKey.keyID)
        let report = verify(events, with: [key.publicKey, otherKey.publicKey])
        #expect(report.broken == nil && report.checkpoints == 3)
        #expect(
            report.signers.ranges.map { "\($0.keyID) \($0.first)-\($0.last)" } == ["\(first) 1-4", "\(second) 5-14"]
        )
        // With the first key alone, the second's first checkpoint (seq 10) is named, with the key given.
        #expect(verify(events).broken == AuditExportBreak(seq: 10, reason: .otherKey(found: second, expected: [first])))
        let stranger = AuditSigningKey(seed: [UInt8](repeating: 9, count: 32)).publicKey
        let broken = verify(events, with: [stranger, otherKey.publicKey]).broken
        #expect(
            broken == AuditExportBreak(seq: 5, reason: .otherKey(found: first, expected: [stranger.keyID, second]))
        )
        #expect(broken?.description.contains("none of the given public keys' (\(stranger.keyID), \(second))") == true)
    }

    @Test func anExportMustStartAtSeqOne() {
        let events = Array(log(10, checkpointEvery: 4).dropFirst(2))
        #expect(verify(events).broken == AuditExportBreak(seq: 3, reason: .notFromStart(found: 3)))
    }

    @Test func withoutACheckpointNothingIsSigned() {
        let report = verify(log(3, checkpointEvery: 100))
        #expect(report.broken == nil)
        #expect(report.lastCheckpoint == nil)
        #expect(report.unsignedTail == 3)
    }

    @Test func aCheckpointSignedAFewEventsBackStillVerifies() throws {
        // A checkpoint covers the seq it read; events appended meanwhile come before it.
        var events = log(4, checkpointEvery: 100)
        let checkpoint = AuditCheckpoint(
            seq: 2,
            digest: digest(events.prefix(2)),
            head: events[1].hash,
            at: Date(),
            key: key
        )
        events.append(
            chain.seal(
                AuditDraft(at: Date(), actor: "system", action: .auditCheckpoint, details: checkpoint.details),
                seq: 5,
                prevHash: events[3].hash
            )
        )
        let report = verify(events)
        #expect(report.broken == nil)
        #expect(report.lastCheckpoint?.checkpoint.seq == 2)
        #expect(report.unsignedTail == 3)
    }
}
