/// A rendered recovery email: a one-line subject, a text body and an optional HTML body. It contains the
/// recovery link or code, so its description and mirror show only the locale and the sizes.
public struct RenderedEmail: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    /// The subject, one line: no CR, LF or other control characters, no surrounding spaces.
    public let subject: String
    /// The plain-text body, not HTML-escaped.
    public let text: String
    /// The HTML body, with data HTML-escaped, when the template has one.
    public let html: String?
    /// The locale whose template was used (after fallback), in canonical BCP 47 form.
    public let locale: String

    public init(subject: String, text: String, html: String?, locale: String) {
        self.subject = subject
        self.text = text
        self.html = html
        self.locale = locale
    }

    public var description: String {
        "RenderedEmail(locale: \(locale), subject: \(subject.utf8.count) bytes, text: \(text.utf8.count) bytes, "
            + "html: \(html.map { "\($0.utf8.count) bytes" } ?? "none"))"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["locale": locale, "description": description])
    }
}
