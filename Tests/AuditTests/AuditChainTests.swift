import Foundation
import Testing

@testable import Audit

@Suite struct AuditChainTests {
    let chain = AuditChain(key: try! AuditKey(bytes: [UInt8](repeating: 1, count: 32)))

    func events(_ count: Int) -> [AuditEvent] {
        var result: [AuditEvent] = []
        var prev = AuditEvent.genesisHash
        for index in 1...count {
            let draft = AuditDraft(
                at: Date(timeIntervalSince1970: 1_750_000_000.123456 + Double(index)),
                actor: "support-desk",
                sourceIP: "10.0.0.\(index)",
                requestID: "req-\(index)",
                action: index.isMultiple(of: 2) ? .emailSent : .emailRequested,
                deliveryID: UUID(),
                identityID: UUID(),
                recipientHash: chain.recipientHash("user\(index)@example.com"),
                recipientMasked: AuditChain.mask("user\(index)@example.com"),
                outcome: "ok",
                details: ["reason": "ticket \(index)", "b": "2"]
            )
            let event = chain.seal(draft, seq: Int64(index), prevHash: prev)
            prev = event.hash
            result.append(event)
        }
        return result
    }

    @Test func anIntactChainVerifiesWithItsHead() {
        let log = events(5)
        #expect(log[0].prevHash == String(repeating: "0", count: 64))
        #expect(log[0].hash.count == 64)
        #expect(chain.verify(log) == .ok(events: 5, head: log[4].hash))
        #expect(chain.verify([]) == .ok(events: 0, head: AuditEvent.genesisHash))
    }

    @Test func aTailVerifiesFromTheFirstEventItReads() {
        let log = events(6)
        func verifyTail(_ tail: ArraySlice<AuditEvent>, with chain: AuditChain) -> AuditVerification {
            var verifier = chain.verifier(after: tail.first!.seq - 1, prevHash: tail.first!.prevHash)
            for event in tail where !verifier.feed(event) { break }
            return verifier.result
        }
        #expect(verifyTail(log[3...], with: chain) == .ok(events: 3, head: log[5].hash))
        // Another key fails at the first event read, though the links hold: it names the key it lacks.
        let other = AuditChain(key: try! AuditKey(bytes: [UInt8](repeating: 2, count: 32)))
        #expect(
            verifyTail(log[3...], with: other)
                == .broken(firstBadSeq: 4, reason: .unknownKey(seq: 4, keyID: chain.keyID))
        )
        // After the first event, every link and HMAC counts again.
        var edited = log
        edited[4].outcome = "failed"
        #expect(verifyTail(edited[3...], with: chain) == .broken(firstBadSeq: 5, reason: .hashMismatch))
        var gap = Array(log[3...])
        gap.remove(at: 1)
        #expect(
            verifyTail(gap[...], with: chain) == .broken(firstBadSeq: 5, reason: .sequenceGap(expected: 5, found: 6))
        )
        var relinked = log
        relinked[5].prevHash = log[3].hash
        #expect(verifyTail(relinked[3...], with: chain) == .broken(firstBadSeq: 6, reason: .previousHashMismatch))
    }

    @Test func sealingTruncatesTimeToMicroseconds() {
        let event = events(1)[0]
        #expect(event.atMicroseconds == 1_750_000_001_123_456)
    }

    @Test(arguments: [
        "actor", "sourceIP", "requestID", "action", "deliveryID", "identityID", "recipientHash",
        "recipientMasked", "outcome", "details", "detailsKey", "at", "id",
    ])
    func anEditedFieldBreaksTheChainAtThatEvent(field: String) {
        var log = events(4)
        var event = log[2]
        switch field {
        case "actor": event.actor = "intruder"
        case "sourceIP": event.sourceIP = nil
        case "requestID": event.requestID = "req-x"
        case "action": event.action = .emailFailed
        case "deliveryID": event.deliveryID = UUID()
        case "identityID": event.identityID = nil
        case "recipientHash": event.recipientHash = chain.recipientHash("other@example.com")
        case "recipientMasked": event.recipientMasked = "o***@e***.com"
        case "outcome": event.outcome = "failed"
        case "details": event.details["reason"] = "edited"
        case "detailsKey": event.details = ["reason": "ticket 3", "c": "2"]
        case "at": event.at = event.at.addingTimeInterval(0.000_001)
        default: event.id = UUID()
        }
        log[2] = event
        #expect(chain.verify(log) == .broken(firstBadSeq: 3, reason: .hashMismatch))
    }

    @Test func aDeletedEventIsAGap() {
        var log = events(5)
        log.remove(at: 1)
        #expect(chain.verify(log) == .broken(firstBadSeq: 2, reason: .sequenceGap(expected: 2, found: 3)))
        #expect(chain.verify(Array(events(3).dropFirst())).isOK == false)
    }

    @Test func reorderedEventsAreDetectedEvenWithRenumberedSeqs() {
        var log = events(4)
        log.swapAt(1, 2)
        #expect(chain.verify(log) == .broken(firstBadSeq: 2, reason: .sequenceGap(expected: 2, found: 3)))
        // Someone also rewrites the seq numbers to hide the swap: the links and hashes give it away.
        log[1].seq = 2
        log[2].seq = 3
        #expect(chain.verify(log) == .broken(firstBadSeq: 2, reason: .previousHashMismatch))
    }

    @Test func anotherKeyFailsAtTheFirstEvent() throws {
        let other = AuditChain(key: try AuditKey(bytes: [UInt8](repeating: 2, count: 32)))
        #expect(other.verify(events(3)) == .broken(firstBadSeq: 1, reason: .unknownKey(seq: 1, keyID: chain.keyID)))
    }

    @Test func theStreamingVerifierStopsAtTheFirstBreak() {
        var log = events(6)
        log[1].outcome = "edited"
        log[4].outcome = "edited"
        var verifier = chain.verifier()
        var fed = 0
        for event in log where verifier.feed(event) {
            fed += 1
        }
        #expect(fed == 1)
        #expect(verifier.result == .broken(firstBadSeq: 2, reason: .hashMismatch))
    }

    @Test func fieldBoundariesAreUnambiguous() {
        // Moving text from one field to the next must change the hash.
        let base = AuditDraft(at: Date(timeIntervalSince1970: 0), actor: "ab", sourceIP: "c", action: .emailSent)
        var shifted = base
        shifted.actor = "a"
        shifted.sourceIP = "bc"
        var detailA = base
        detailA.details = ["k": "v=w"]
        var detailB = base
        detailB.details = ["k=v": "w"]
        let hashes = [base, shifted, detailA, detailB].map {
            chain.seal($0, seq: 1, id: UUID(uuidString: "00000000-0000-0000-0000-000000000001")!, prevHash: "").hash
        }
        #expect(Set(hashes).count == 4)
    }

    @Test(arguments: [
        ("john.doe@example.com", "j***@e***.com"),
        ("A@mail.example.co.uk", "A***@m***.uk"),
        ("x@localhost", "x***@l***"),
        ("nobody", "n***"),
        ("@example.com", "***@e***.com"),
    ])
    func masksAddresses(address: String, masked: String) {
        #expect(AuditChain.mask(address) == masked)
    }

    @Test func recipientHashIgnoresCaseAndDependsOnTheKey() throws {
        let hash = chain.recipientHash("John.Doe@Example.com")
        #expect(hash == chain.recipientHash("john.doe@example.com"))
        #expect(hash.count == 64 && hash.allSatisfy(\.isHexDigit))
        let other = AuditChain(key: try AuditKey(bytes: [UInt8](repeating: 9, count: 32)))
        #expect(other.recipientHash("john.doe@example.com") != hash)
        // HMAC-SHA256 under that key, as Python's hmac computes it: stored hashes must never move.
        let known = "5b7117a085dc26c5afed76a8c6503ba9cc512cfb78e0c6e53a69f0121041b951"
        #expect(other.recipientHash("john.doe@example.com") == known)
        #expect(other.recipientHash(" John.Doe@EXAMPLE.com\t") == known)
    }

    /// The octet-by-octet mask of printable ASCII must be the mask by Character.
    @Test func theASCIIMaskIsTheMaskByCharacter() {
        let alphabet = Array("ab@@..-_+Z9 \t\"é\u{301}\u{7F}\u{1}".unicodeScalars)
        var generator = SystemRandomNumberGenerator()
        var shortcuts = 0
        for _ in 0..<20_000 {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...10, using: &generator) {
                text.append(alphabet.randomElement(using: &generator)!)
            }
            let candidate = String(text)
            guard let masked = AuditChain.maskPrintableASCII(candidate) else { continue }
            shortcuts += 1
            #expect(masked == AuditChain.maskByCharacter(candidate), "\(candidate)")
        }
        #expect(shortcuts > 1000)
        #expect(AuditChain.maskPrintableASCII("john.doe@example.com") == "j***@e***.com")
        #expect(AuditChain.maskPrintableASCII(" john.doe@example.com") == nil)
    }

    /// The shortcut that skips Foundation's trimming must trim exactly as it does.
    @Test(arguments: [
        "", " ", "\t", "a", " a ", "\ta@b.c\t", "a@b.c\u{A0}", "\u{3000}a@b.c", "\u{200B}a@b.c", " \u{301}a",
        "a \u{301}", "\na@b.c", "a@b.c\r\n", "\u{85}a", "\u{2028}a", "é@b.c", "a@b.é", "\u{1680}a\u{202F}",
    ])
    func trimsBlanksAsFoundationDoes(text: String) {
        #expect(AuditChain.trimmingBlanks(text) == text.trimmingCharacters(in: .whitespaces))
    }
}
