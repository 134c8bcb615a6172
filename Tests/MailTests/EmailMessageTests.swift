import Foundation
import TestSupport
import Testing

@testable import Mail

/// A message with every feature the gateway uses; shared by the builder and transport tests.
func sampleMessage(
    subject: String = "Récupération de votre compte — Konto-Wiederherstellung 🔑",
    text: String? = nil,
    html: String? = "<p>Hello <b>there</b> &amp; welcome</p>",
    fromName: String? = "Exämple Support",
    to: String = "user+tag@example.com"
) throws -> EmailMessage {
    try EmailMessage(
        from: Mailbox(displayName: fromName, address: EmailAddress("no-reply@example.com")),
        to: Mailbox(address: EmailAddress(to)),
        subject: subject,
        text: text
            ?? "Hello,\n.this line starts with a dot\n..and this with two\nFrom here on: a line starting with From\n"
            + "Unicode: Grüße, привет, 你好\n" + "trailing space \n" + String(repeating: "long ", count: 300) + "\n",
        html: html,
        messageID: MessageID("<0c5a1b2e-test@example.com>"),
        date: Date(timeIntervalSince1970: 1_795_592_451)
    )
}

/// The lines of a rendered message, checked to end in CRLF (no bare CR or LF anywhere).
func crlfLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>]? {
    var lines: [ArraySlice<UInt8>] = []
    var start = 0
    var index = 0
    while index < bytes.count {
        if bytes[index] == 0x0D {
            guard index + 1 < bytes.count, bytes[index + 1] == 0x0A else { return nil }
            lines.append(bytes[start..<index])
            index += 2
            start = index
        } else if bytes[index] == 0x0A {
            return nil
        } else {
            index += 1
        }
    }
    return start == bytes.count ? lines : nil
}

@Suite("Building messages (RFC 5322, MIME, RFC 2047)")
struct EmailMessageTests {
    @Test func everyLineEndsInCRLFAndFitsIn998Octets() throws {
        let bytes = try sampleMessage(text: String(repeating: "x", count: 5000) + "\n").rendered()
        let lines = try #require(crlfLines(bytes))
        #expect(lines.allSatisfy { $0.count <= 998 })
        // Bodies are quoted-printable or base64, so even their lines stay within 76.
        let body = lines.drop(while: { !$0.isEmpty })
        #expect(body.allSatisfy { $0.count <= 76 })
    }

    /// The `Date:` header's text, against Python's `datetime` in UTC (day 0, before it, leap days,
    /// century rules, a fraction of a second dropped).
    @Test(arguments: [
        (0.0, "Thu, 1 Jan 1970 00:00:00 +0000"),
        (-1.0, "Wed, 31 Dec 1969 23:59:59 +0000"),
        (951_782_400.0, "Tue, 29 Feb 2000 00:00:00 +0000"),
        (1_709_211_661.0, "Thu, 29 Feb 2024 13:01:01 +0000"),
        (1_780_000_000.9, "Thu, 28 May 2026 20:26:40 +0000"),
        (4_102_444_799.0, "Thu, 31 Dec 2099 23:59:59 +0000"),
        (4_107_542_459.0, "Mon, 1 Mar 2100 00:00:59 +0000"),
    ])
    func dateHeaderText(seconds: Double, expected: String) {
        #expect(RFC5322Date.format(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test func headersAreComplete() throws {
        let text = String(decoding: try sampleMessage().rendered(), as: UTF8.self)
        let header = String(text[..<text.range(of: "\r\n\r\n")!.lowerBound])
        #expect(header.hasPrefix("Date: Wed, 25 Nov 2026 07:40:51 +0000\r\n"))
        #expect(header.contains("\r\nMessage-ID: <0c5a1b2e-test@example.com>\r\n"))
        #expect(header.contains("\r\nMIME-Version: 1.0\r\n"))
        #expect(header.contains("\r\nAuto-Submitted: auto-generated\r\n"))
        #expect(header.contains("\r\nTo: user+tag@example.com\r\n"))
        #expect(header.contains("Content-Type: multipart/alternative;"))
        // Header text is 7-bit: non-ASCII went into encoded words.
        #expect(header.utf8.allSatisfy { $0 < 0x80 })
        #expect(header.contains("Subject: =?UTF-8?B?"))
        #expect(header.contains("From: =?UTF-8?B?"))
    }

    @Test func contentLanguageIsAHeaderWhenGiven() throws {
        func message(language: String) throws -> EmailMessage {
            try EmailMessage(
                from: Mailbox(address: EmailAddress("no-reply@example.com")),
                to: Mailbox(address: EmailAddress("user@example.com")),
                subject: "Ihr Anmeldecode",
                text: "Code: 508217\n",
                messageID: MessageID("<c1@example.com>"),
                contentLanguage: language
            )
        }
        func header(_ message: EmailMessage) -> String {
            let text = String(decoding: message.rendered(), as: UTF8.self)
            return String(text[..<text.range(of: "\r\n\r\n")!.lowerBound])
        }
        #expect(header(try message(language: "de-AT")).contains("\r\nContent-Language: de-AT\r\n"))
        #expect(!header(try sampleMessage()).contains("Content-Language"))
        #expect(throws: MessageError.lineBreakInHeader(field: "Content-Language")) {
            try message(language: "de\r\nBcc: victim@example.com")
        }
    }

    @Test func htmlPartComesLast() throws {
        let text = String(decoding: try sampleMessage().rendered(), as: UTF8.self)
        let plain = try #require(text.range(of: "Content-Type: text/plain; charset=utf-8"))
        let html = try #require(text.range(of: "Content-Type: text/html; charset=utf-8"))
        #expect(plain.lowerBound < html.lowerBound)
    }

    @Test func withoutHTMLTheMessageIsSinglePart() throws {
        let text = String(decoding: try sampleMessage(html: nil).rendered(), as: UTF8.self)
        #expect(!text.contains("multipart"))
        #expect(
            text.contains(
                "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            )
        )
    }

    @Test func encodedWordsStayWithinTheirLimits() throws {
        let subject = String(repeating: "Grüße aus Zürich 🇨🇭 ", count: 12)
        let text = String(decoding: try sampleMessage(subject: subject).rendered(), as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        let start = try #require(lines.firstIndex { $0.hasPrefix("Subject: ") })
        let subjectLines = [lines[start]] + lines[(start + 1)...].prefix { $0.hasPrefix(" ") }
        #expect(subjectLines.count > 3)
        #expect(subjectLines.allSatisfy { $0.utf8.count <= 78 })
        var decoded = ""
        for line in subjectLines {
            let word = line.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "Subject: ", with: "")
            #expect(word.utf8.count <= 75)
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            let payload = word.dropFirst(10).dropLast(2)
            // Each word holds whole characters: it decodes as UTF-8 on its own.
            let data = try #require(Data(base64Encoded: String(payload)))
            decoded += try #require(String(data: data, encoding: .utf8))
        }
        #expect(decoded == subject)
    }

    @Test func longASCIISubjectsAreFoldedAtSpaces() throws {
        let subject = (1...30).map { "word\($0)" }.joined(separator: " ")
        let text = String(decoding: try sampleMessage(subject: subject).rendered(), as: UTF8.self)
        #expect(text.contains("Subject: word1 word2"))
        let lines = text.components(separatedBy: "\r\n")
        let start = try #require(lines.firstIndex { $0.hasPrefix("Subject: ") })
        let folded = [lines[start]] + lines[(start + 1)...].prefix { $0.hasPrefix(" ") }
        #expect(folded.count > 1)
        #expect(folded.allSatisfy { $0.utf8.count <= 78 })
        #expect(String(folded.joined().dropFirst("Subject: ".count)) == subject)
    }

    @Test(arguments: [
        "Reset\r\nBcc: victim@example.com", "Reset\nX-Injected: 1", "Reset\r", "Line\u{2028}separator", "NUL\u{0}byte",
    ])
    func subjectWithLineBreaksOrControlsIsRefused(subject: String) {
        #expect(throws: MessageError.self) { try sampleMessage(subject: subject) }
    }

    @Test func displayNameWithLineBreakIsRefused() {
        #expect(throws: MessageError.lineBreakInHeader(field: "from")) {
            try Mailbox(displayName: "Evil\r\nBcc: x@y.z", address: EmailAddress("a@b.c"), field: "from")
        }
    }

    @Test func displayNamesAreQuotedWhenTheyNeedIt() throws {
        let plain = String(decoding: try sampleMessage(fromName: "Example Support").rendered(), as: UTF8.self)
        #expect(plain.contains("\r\nFrom: Example Support <no-reply@example.com>\r\n"))
        let special = String(
            decoding: try sampleMessage(fromName: "Support, \"Team\" \\ Ops").rendered(),
            as: UTF8.self
        )
        #expect(special.contains("\r\nFrom: \"Support, \\\"Team\\\" \\\\ Ops\" <no-reply@example.com>\r\n"))
    }

    @Test func quotedPrintableEscapesWhatItMust() {
        let encoded = BodyEncoding.quotedPrintable.encode(
            "a=b \nFrom me\n\t\nünï\n" + String(repeating: "é", count: 40)
        )
        let lines = encoded.components(separatedBy: "\r\n")
        #expect(lines[0] == "a=3Db=20")
        #expect(lines[1] == "=46rom me")
        #expect(lines[2] == "=09")
        #expect(lines[3] == "=C3=BCn=C3=AF")
        #expect(lines.allSatisfy { $0.utf8.count <= 76 })
        // A soft break ("=" at the end) never splits an =XX escape.
        #expect(lines.allSatisfy { $0.wholeMatch(of: /([^=]|=[0-9A-F]{2})*=?/) != nil })
        #expect(lines[4].hasSuffix("="))
    }

    /// Long lines that escape every octet (the most output per input) and lines that escape none
    /// come back as they went in, every line within 76 characters.
    @Test(arguments: [
        String(repeating: "=", count: 5_000),
        String(repeating: "a", count: 5_000) + "\n" + String(repeating: "\u{1}", count: 999) + "\n \n",
        (0..<3_000).map { String(UnicodeScalar(UInt8($0 % 128))) }.joined(),
    ])
    func quotedPrintableRoundTripsTheWorstCases(_ text: String) {
        let encoded = BodyEncoding.quotedPrintable.encode(text)
        let lines = encoded.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 76 })
        var decoded: [UInt8] = []
        for (index, line) in lines.dropLast().enumerated() {
            var bytes = Array(line.utf8)[...]
            let soft = bytes.last == UInt8(ascii: "=")
            if soft { bytes = bytes.dropLast() }
            while let byte = bytes.popFirst() {
                guard byte == UInt8(ascii: "="), bytes.count >= 2 else {
                    decoded.append(byte)
                    continue
                }
                decoded.append(UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)!)
                bytes = bytes.dropFirst(2)
            }
            if !soft && index < lines.count - 2 { decoded += [0x0D, 0x0A] }
        }
        let expected = text.split(omittingEmptySubsequences: false) { $0.isNewline }.joined(separator: "\r\n")
        // A final line end adds no empty line (the "\r\n" Character is one, dropped whole).
        #expect(
            String(decoding: decoded, as: UTF8.self)
                == (expected.hasSuffix("\r\n") ? String(expected.dropLast()) : expected)
        )
    }

    @Test func mostlyNonASCIITextIsBase64() {
        #expect(BodyEncoding.choose(for: "Привет, как дела? Это письмо для восстановления.") == .base64)
        #expect(BodyEncoding.choose(for: "Hello, Grüße!") == .quotedPrintable)
    }

    @Test func messageIDsAreCheckedAndGeneratedInTheSenderDomain() throws {
        let generated = MessageID.generate(domain: "example.com")
        #expect(generated.value.hasPrefix("<") && generated.value.hasSuffix("@example.com>"))
        #expect(try MessageID(generated.value) == generated)
        #expect(generated != MessageID.generate(domain: "example.com"))
        for bad in ["no-brackets@example.com", "<two@at@example.com>", "<spa ce@example.com>", "<x@y>\r\nBcc: z"] {
            #expect(throws: MessageError.self) { try MessageID(bad) }
        }
    }
}
