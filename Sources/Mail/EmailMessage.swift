import Foundation

/// One email, ready to be rendered to the octets that go after SMTP `DATA`.
///
/// Rendering follows RFC 5322 and MIME (RFC 2045–2047): CRLF line ends everywhere, no line over
/// 998 octets (header lines are folded at 78 where possible, bodies are quoted-printable or
/// base64 at 76), non-ASCII header text as encoded words, and `multipart/alternative` with the
/// HTML part last when there is one. Every header input is checked when the message is built:
/// CR, LF and control characters are refused with a ``MessageError``, never passed on.
public struct EmailMessage: Sendable {
    public let from: Mailbox
    public let to: Mailbox
    public let subject: String
    public let text: String
    public let html: String?
    public let messageID: MessageID
    public let date: Date
    /// The language of the text (`Content-Language`, RFC 3282): a BCP 47 tag such as the catalog's
    /// `RenderedEmail.locale`; no header when `nil`.
    public let contentLanguage: String?

    /// Builds a message; fails if the subject or the language carries CR, LF or control characters.
    public init(
        from: Mailbox,
        to: Mailbox,
        subject: String,
        text: String,
        html: String? = nil,
        messageID: MessageID,
        date: Date = Date(),
        contentLanguage: String? = nil
    ) throws(MessageError) {
        try HeaderText.check(subject, field: "subject")
        if let contentLanguage { try HeaderText.check(contentLanguage, field: "Content-Language") }
        self.contentLanguage = contentLanguage
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
        self.date = date
    }

    /// The message as sent: headers, a blank line, the body; every line ends in CRLF. Built on
    /// octets: the bodies are appended as they are encoded.
    public func rendered() -> [UInt8] {
        var headers = [
            "Date: " + RFC5322Date.format(date),
            Self.addressHeader("From", from),
            Self.addressHeader("To", to),
            HeaderText.unstructured(name: "Subject", value: subject),
            "Message-ID: " + messageID.value,
            "MIME-Version: 1.0",
            "Auto-Submitted: auto-generated",
        ]
        if let contentLanguage {
            headers.append(HeaderText.unstructured(name: "Content-Language", value: contentLanguage))
        }
        var message: [UInt8] = []
        message.reserveCapacity(1024 + 2 * (text.utf8.count + (html?.utf8.count ?? 0)))
        for header in headers { Self.appendLine(header, to: &message) }
        if let html {
            let boundary = Self.boundary(for: messageID)
            Self.appendLine("Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"", to: &message)
            Self.appendLine("", to: &message)
            Self.appendLine("This is a multi-part message in MIME format.", to: &message)
            for (subtype, content) in [("plain", text), ("html", html)] {
                Self.appendLine("", to: &message)
                Self.appendLine("--\(boundary)", to: &message)
                Self.appendPart(subtype: subtype, content: content, to: &message)
            }
            Self.appendLine("", to: &message)
            Self.appendLine("--\(boundary)--", to: &message)
        } else {
            Self.appendPart(subtype: "plain", content: text, to: &message)
        }
        return message
    }

    /// The MIME headers, a blank line, and the encoded content of one text part.
    private static func appendPart(subtype: String, content: String, to message: inout [UInt8]) {
        let encoding = BodyEncoding.choose(for: content)
        appendLine("Content-Type: text/\(subtype); charset=utf-8", to: &message)
        appendLine("Content-Transfer-Encoding: \(encoding.rawValue)", to: &message)
        appendLine("", to: &message)
        encoding.encode(content, into: &message)
    }

    private static func appendLine(_ line: String, to message: inout [UInt8]) {
        message += line.utf8
        message.append(0x0D)
        message.append(0x0A)
    }

    private static func addressHeader(_ name: String, _ mailbox: Mailbox) -> String {
        let prefix = "\(name): "
        guard let displayName = mailbox.displayName else { return prefix + mailbox.address.description }
        let phrase = HeaderText.phrase(displayName, firstLineUsed: prefix.utf8.count)
        let lastLineLength = phrase.split(separator: "\n").last.map { $0.utf8.count } ?? 0
        let separator =
            lastLineLength + mailbox.address.description.utf8.count + 3 > HeaderText.foldWidth ? "\r\n " : " "
        return prefix + phrase + separator + "<\(mailbox.address)>"
    }

    /// A boundary that cannot occur in the parts: "=_" never appears in quoted-printable or
    /// base64 output.
    private static func boundary(for messageID: MessageID) -> String {
        // A Message-ID is ASCII (dot-atoms): its letters and digits.
        let token = messageID.value.utf8.lazy.filter {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0 | 0x20)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
        }
        return "=_rg_" + String(decoding: token.prefix(40), as: UTF8.self)
    }
}
