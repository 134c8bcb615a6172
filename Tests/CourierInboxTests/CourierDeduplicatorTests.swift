import CourierInbox
import Foundation
import JSONValue
import Testing

/// The same message posted again has the same key; another message, another key.
@Suite struct CourierDeduplicatorTests {
    static let key = [UInt8](repeating: 7, count: 32)
    let deduplicator = CourierDeduplicator(key: key, invalidWindow: .seconds(600))
    let received = Date(timeIntervalSince1970: 1_800_000_000)  // a multiple of 600

    @Test func aRepostOfAValidMessageHasTheSameKeyWhenever() throws {
        for type in try Fixtures.types(in: "ctx-v26.2") where type.hasSuffix("_valid") {
            let message = try Fixtures.message("ctx-v26.2", type)
            let first = deduplicator.keys(for: message, receivedAt: received)
            let again = deduplicator.keys(for: try Fixtures.message("ctx-v26.2", type), receivedAt: received + 86_400)
            #expect(first == again)
            #expect(first.lookup == [first.current])
        }
    }

    @Test func anotherCodeOrLinkOrRecipientIsAnotherMessage() throws {
        let document = try Fixtures.document("ctx-v26.2", "recovery_code_valid")
        let key = { (document: JSONValue) in
            try deduplicator.keys(for: KratosCourierMessage(document: document), receivedAt: received).current
        }
        let original = try key(document)
        #expect(try key(document.setting(["template_data", "recovery_code"], to: .string("731905"))) != original)
        let otherRecipient = document.setting(["recipient"], to: .string("max@example.com"))
            .setting(["template_data", "to"], to: .string("max@example.com"))
        #expect(try key(otherRecipient) != original)
        // What is not part of the key does not change it: Kratos re-renders the body on each attempt.
        #expect(try key(document.setting(["body"], to: .string("re-rendered"))) == original)
        // Another key gives other values: the stored key says nothing without it.
        let other = CourierDeduplicator(key: [UInt8](repeating: 8, count: 32))
        #expect(other.keys(for: try KratosCourierMessage(document: document), receivedAt: received).current != original)
    }

    @Test func fieldsCannotRunIntoEachOther() throws {
        let document = try Fixtures.document("ctx-v26.2", "recovery_code_valid")
        let a = document.setting(["recipient"], to: .string("a@b.c1")).setting(["template_data", "to"], to: nil)
            .setting(["template_data", "recovery_code"], to: .string("23"))
        let b = document.setting(["recipient"], to: .string("a@b.c")).setting(["template_data", "to"], to: nil)
            .setting(["template_data", "recovery_code"], to: .string("123"))
        let keyA = deduplicator.keys(for: try KratosCourierMessage(document: a), receivedAt: received)
        let keyB = deduplicator.keys(for: try KratosCourierMessage(document: b), receivedAt: received)
        #expect(keyA != keyB)
    }

    @Test func loginCodeInTheFlatShapeIsKeyedByKratossBody() throws {
        let document = try Fixtures.document("default-body-v26.2", "login_code_valid")
        let original = deduplicator.keys(for: try KratosCourierMessage(document: document), receivedAt: received)
        let otherCode = document.setting(["body"], to: .string("Hi,\n\nplease login ...:\n\n508218\n"))
        #expect(deduplicator.keys(for: try KratosCourierMessage(document: otherCode), receivedAt: received) != original)
    }

    @Test func anInvalidMessageIsTheSameOnlyWithinTheWindow() throws {
        let message = try Fixtures.message("ctx-v26.2", "recovery_invalid")
        let first = deduplicator.keys(for: message, receivedAt: received)
        #expect(first.lookup.count == 2 && first.lookup[0] == first.current)
        // Same bucket: same key.
        #expect(deduplicator.keys(for: message, receivedAt: received + 599).current == first.current)
        // The next bucket: another key, but its lookup finds the first one.
        let next = deduplicator.keys(for: message, receivedAt: received + 600)
        #expect(next.current != first.current && next.lookup.contains(first.current))
        // Two buckets on: a new message.
        #expect(!deduplicator.keys(for: message, receivedAt: received + 1200).lookup.contains(first.current))
        // Another request_url or body is another message.
        let other = try KratosCourierMessage(
            document: Fixtures.document("ctx-v26.2", "recovery_invalid")
                .setting(["template_data", "request_url"], to: .string("https://auth.example.com/other"))
        )
        #expect(deduplicator.keys(for: other, receivedAt: received).current != first.current)
    }

    @Test func keysAreBase64OfA32ByteMAC() throws {
        let keys = deduplicator.keys(for: try Fixtures.message("ctx-v26.2", "recovery_valid"), receivedAt: received)
        #expect(Data(base64Encoded: keys.current)?.count == 32)
        #expect(!keys.current.contains("lena") && !keys.current.contains("Qm9zc2Vz"))
    }
}
