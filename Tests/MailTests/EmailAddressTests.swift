import DeliveryVocabulary
import TestSupport
import Testing

@testable import Mail

@Suite("Email addresses (RFC 5321 mailbox syntax, IDN)")
struct EmailAddressTests {
    @Test(arguments: [
        ("john.doe@example.com", "john.doe", "example.com"),
        ("a+tag@sub.Example.COM", "a+tag", "sub.example.com"),
        ("o'brien@localhost", "o'brien", "localhost"),
        ("x_{y}|z~!#$%&*=?^`@a-b.c", "x_{y}|z~!#$%&*=?^`", "a-b.c"),
    ])
    func acceptsMailboxes(input: String, local: String, domain: String) throws {
        let address = try EmailAddress(input)
        #expect(address.localPart == local)
        #expect(address.domain == domain)
        #expect(address.description == "\(local)@\(domain)")
    }

    @Test(arguments: [
        ("jörg@müller.de", false, ""),
        ("info@müller.de", true, "info@xn--mller-kva.de"),
        ("x@ドメイン名例.jp", true, "x@xn--eckwd4c7cu47r2wf.jp"),
        ("x@MÜLLER.de", true, "x@xn--mller-kva.de"),
        ("x@bücher.example", true, "x@xn--bcher-kva.example"),
    ])
    func internationalizedDomainsArePunycoded(input: String, accepted: Bool, expected: String) {
        if accepted {
            #expect((try? EmailAddress(input))?.description == expected)
        } else {
            #expect(throws: MessageError.self) { try EmailAddress(input) }
        }
    }

    @Test(arguments: [
        ("plain", "it has no @"),
        ("@example.com", "the part before @ is empty"),
        ("a@", "the domain is empty"),
        ("a b@example.com", "not allowed"),
        ("<a@example.com>", "not allowed"),
        ("a@exa mple.com", "letter, digit or hyphen"),
        ("a@example.com>", "letter, digit or hyphen"),
        (".a@example.com", "dot"),
        ("a..b@example.com", "dot"),
        ("a@example..com", "empty label"),
        ("a@-example.com", "hyphen"),
        ("a@[192.0.2.1]", "address literals"),
        ("\"quoted\"@example.com", "quoted local parts"),
        (String(repeating: "a", count: 65) + "@example.com", "64 octets"),
        ("a@" + String(repeating: "b", count: 64) + ".com", "63 octets"),
    ])
    func refusesBadAddressesWithAReason(input: String, reasonPart: String) {
        #expect {
            try EmailAddress(input, field: "recipient")
        } throws: { error in
            guard case .invalidAddress(let field, let reason) = error as? MessageError else { return false }
            return field == "recipient" && reason.contains(reasonPart)
        }
    }

    @Test(arguments: ["a@example.com\r\nBcc: x@evil.test", "a\n@example.com", "a@example.com\r"])
    func refusesLineBreaksAsTheirOwnError(input: String) {
        #expect(throws: MessageError.lineBreakInHeader(field: "to")) { try EmailAddress(input, field: "to") }
    }

    /// The one-pass check of plain ASCII addresses accepts only what the full check accepts, as the
    /// same address; and it does take the common addresses (else it would save nothing).
    @Test func thePlainASCIIShortcutAgreesWithTheFullCheck() {
        let alphabet = Array("aZ09.-_+@@..--\"' <>[]\r\nüÄ".unicodeScalars)
        var generator = SystemRandomNumberGenerator()
        var accepted = 0
        for round in 0..<20_000 {
            var text = String.UnicodeScalarView()
            let length =
                round % 10 == 0
                ? Int.random(in: 60...260, using: &generator) : Int.random(in: 0...16, using: &generator)
            for _ in 0..<length { text.append(alphabet.randomElement(using: &generator)!) }
            let candidate = String(text)
            guard let plain = EmailAddress.plainASCII(candidate) else { continue }
            accepted += 1
            #expect((try? EmailAddress(checkingFully: candidate)) == plain, "\(candidate)")
        }
        #expect(accepted > 0)
        let long = String(repeating: "a", count: 63)
        for text in [
            "john.doe@example.com", "A+tag@Sub.Example.COM", "x_{y}|z~!#$%&*=?^`@a-b.c", "o'brien@localhost",
            // 254 octets, the most an address may have.
            String(repeating: "l", count: 64) + "@\(long).\(long).\(String(repeating: "d", count: 61))",
        ] {
            let plain = EmailAddress.plainASCII(text)
            #expect(plain != nil, "\(text)")
            #expect(plain == (try? EmailAddress(checkingFully: text)), "\(text)")
        }
        // One octet over each limit: the shortcut leaves it to the full check, which refuses it.
        for text in [
            String(repeating: "l", count: 65) + "@example.com", "a@" + String(repeating: "b", count: 64) + ".com",
            String(repeating: "l", count: 64) + "@\(long).\(long).\(String(repeating: "d", count: 62))",
        ] {
            #expect(EmailAddress.plainASCII(text) == nil)
            #expect((try? EmailAddress(text)) == nil)
        }
    }

    @Test func errorTextsDoNotEchoTheAddress() {
        let secretish = "very.private.person@example.com "
        do {
            _ = try EmailAddress(secretish)
            Issue.record("a trailing space must be refused")
        } catch {
            #expect(!error.description.contains("very.private.person"))
        }
    }

    @Test func punycodeMatchesRFC3492Samples() {
        #expect(Punycode.encode("bücher") == "bcher-kva")
        #expect(Punycode.encode("ñandú") == "and-6ma2c")
        #expect(Punycode.encode("例え") == "r8jz45g")
    }
}
