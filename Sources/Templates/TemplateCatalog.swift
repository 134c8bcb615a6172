import Foundation
import JSONValue
import Mustache

/// All email templates of a templates directory, parsed and checked when loaded, rendered from memory:
/// after `load` nothing is read from disk, and no caller-given string is ever used as a path.
public struct TemplateCatalog: Sendable {
    /// One template in one locale: its parsed parts.
    struct Localized: Sendable {
        let subject: MustacheTemplate
        let text: MustacheTemplate
        let html: MustacheTemplate?
        /// Whether any part mentions `Identity` (conservatively: anywhere in its source).
        let usesIdentity: Bool
    }

    /// What a template is for: a recovery email of the admin path, or one Kratos courier template type.
    enum Purpose: Sendable, Equatable {
        case recovery(RecoveryMethod)
        case courier(CourierTemplateType)
    }

    /// One template name: what it serves and its locales (canonical tags).
    struct Entry: Sendable {
        let purpose: Purpose
        let locales: [String: Localized]

        var method: RecoveryMethod? {
            guard case .recovery(let method) = purpose else { return nil }
            return method
        }
    }

    /// The locale every lookup ends at (canonical tag); every template exists in it.
    public let defaultLocale: String
    let entries: [String: Entry]

    /// The names of the recovery templates (the admin path's `template`), sorted.
    public var names: [String] { entries.filter { $0.value.method != nil }.keys.sorted() }

    /// The Kratos courier template types the catalog has a template for (directory named after the
    /// type), sorted by name.
    public var courierTypes: [CourierTemplateType] {
        entries.values.compactMap {
            guard case .courier(let type) = $0.purpose else { return nil }
            return type
        }.sorted { $0.rawValue < $1.rawValue }
    }

    /// The method the template `name` serves, or `nil` when there is no such template.
    public func method(of name: String) -> RecoveryMethod? { entries[name]?.method }

    /// Whether the template `name` (in any locale) prints the identity (`Identity.id`,
    /// `Identity.traits.…`): if not, a delivery need not fetch it. Errs on the side of `true`.
    public func usesIdentity(_ name: String) -> Bool {
        entries[name]?.locales.values.contains { $0.usesIdentity } ?? true
    }

    /// The locales (canonical tags) the template `name` exists in, sorted.
    public func locales(of name: String) -> [String] { entries[name].map { $0.locales.keys.sorted() } ?? [] }

    /// Reads and checks every template under `directory`; see `CatalogLoader` for what is refused.
    public static func load(directory: String, defaultLocale: String) throws(TemplateError) -> TemplateCatalog {
        try CatalogLoader(directory: directory, defaultLocale: defaultLocale).load()
    }

    /// The cheap check at accept time: the name and locale are well-formed, the template exists and
    /// serves `method`. Returns the locale that would be used after fallback.
    @discardableResult
    public func validate(name: String, locale: String?, method: RecoveryMethod) throws(TemplateError) -> String {
        try resolve(name: name, locale: locale, method: method).locale
    }

    /// Renders the template `name` in the best locale for `locale` (`de-CH` → `de` → default).
    public func render(
        _ name: String,
        locale: String?,
        method: RecoveryMethod,
        data: TemplateData
    ) throws(TemplateError) -> RenderedEmail {
        let (template, used) = try resolve(name: name, locale: locale, method: method)
        let secret: String
        switch method {
        case .link:
            guard let url = data.recoveryURL, !url.isEmpty else {
                throw TemplateError(.methodMismatch, "the link method needs a recovery link in the data")
            }
            secret = url
        case .code:
            guard let code = data.recoveryCode, !code.isEmpty else {
                throw TemplateError(.methodMismatch, "the code method needs a recovery code in the data")
            }
            secret = code
        }
        return try Self.email(
            template,
            Self.context(data, locale: used),
            name: name,
            locale: used,
            secret: (secret, method.requiredVariable)
        )
    }

    /// Renders the parts of `template` with `context`. A section can hide the link or code for some
    /// data; an email without it must not go out, so the text body must contain `secret` when given.
    static func email(
        _ template: Localized,
        _ context: [String: Any],
        name: String,
        locale: String,
        secret: (value: String, variable: String)?
    ) throws(TemplateError) -> RenderedEmail {
        let text = template.text.render(context)
        if let secret, !Self.contains(text, secret.value) {
            throw TemplateError(
                .missingVariable,
                "template \(quoted(name)) (\(locale)) rendered a text body without \(secret.variable) "
                    + "for this identity; a section in body.txt.mustache hides it"
            )
        }
        return RenderedEmail(
            subject: SubjectLine.clean(template.subject.render(context)),
            text: text,
            html: template.html?.render(context),
            locale: locale
        )
    }

    /// Whether the UTF-8 of `part` occurs in that of `text`: the octets the email carries, found
    /// without Foundation's `contains`, which compares through `NSString` (1.5 % of an email).
    static func contains(_ text: String, _ part: String) -> Bool {
        var text = text
        var part = part
        return text.withUTF8 { text in
            part.withUTF8 { part in
                guard let first = part.first, let needle = part.baseAddress else { return true }
                guard let haystack = text.baseAddress, text.count >= part.count else { return false }
                for start in 0...(text.count - part.count) where text[start] == first {
                    if memcmp(haystack + start, needle, part.count) == 0 { return true }
                }
                return false
            }
        }
    }

    /// The Mustache context for `data`: Kratos's variable names, plus `Locale`.
    static func context(_ data: TemplateData, locale: String) -> [String: Any] {
        var context: [String: Any] = [
            "To": TemplateValue(json: .string(data.to)),
            "Identity": TemplateValue(json: .object(["id": .string(data.identityID), "traits": data.traits])),
            "ExpiresInMinutes": TemplateValue(json: .number(Double(data.expiresInMinutes))),
            "TransientPayload": TemplateValue.wrap(data.transientPayload),
            "Locale": TemplateValue(json: .string(locale)),
        ]
        if let url = data.recoveryURL { context["RecoveryURL"] = TemplateValue(json: .string(url)) }
        if let code = data.recoveryCode { context["RecoveryCode"] = TemplateValue(json: .string(code)) }
        return context
    }

    private func resolve(
        name: String,
        locale: String?,
        method: RecoveryMethod
    ) throws(TemplateError) -> (template: Localized, locale: String) {
        try TemplateName.check(name)
        let tag = try locale.map { (text) throws(TemplateError) in try LanguageTag(text) }
        guard let entry = entries[name], let served = entry.method else {
            throw TemplateError(.unknownTemplate, "no template named \(quoted(name))")
        }
        guard served == method else {
            throw TemplateError(
                .methodMismatch,
                "template \(quoted(name)) serves the \(served.rawValue) method, not \(method.rawValue)"
            )
        }
        return try localized(entry, name: name, tag: tag)
    }

    /// The best locale of `entry` for `tag`: its RFC 4647 fallback chain, then the default locale.
    func localized(
        _ entry: Entry,
        name: String,
        tag: LanguageTag?
    ) throws(TemplateError) -> (template: Localized, locale: String) {
        for candidate in (tag?.fallbackChain ?? []) + [defaultLocale] {
            if let template = entry.locales[candidate] { return (template, candidate) }
        }
        // The loader guarantees every template exists in the default locale.
        throw TemplateError(.unknownTemplate, "template \(quoted(name)) has no \(defaultLocale) variant")
    }
}

/// The rule for template names: `[a-z0-9_-]+`, at most 64 characters.
enum TemplateName {
    static func check(_ name: String) throws(TemplateError) {
        let allowed = name.utf8.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
        guard allowed, (1...64).contains(name.utf8.count) else {
            throw TemplateError(.invalidName, "template name \(quoted(name)) is not [a-z0-9_-]+ (1-64 characters)")
        }
    }
}

/// Makes a rendered subject one line: line breaks and other control characters from data become
/// spaces, runs of white space collapse to one, and the ends are trimmed.
public enum SubjectLine {
    public static func clean(_ raw: String) -> String {
        // Built as octets: appending a scalar to a String costs more than deciding about it.
        var result: [UInt8] = []
        result.reserveCapacity(raw.utf8.count)
        var pendingSpace = false
        for scalar in raw.unicodeScalars {
            if separates(scalar) {
                pendingSpace = !result.isEmpty
            } else {
                if pendingSpace { result.append(UInt8(ascii: " ")) }
                pendingSpace = false
                UTF8.encode(scalar) { result.append($0) }
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Whether `scalar` is a line break, a control character or white space: a place for at most
    /// one space. An ASCII scalar is decided by its value (a control, DEL or the space), without the
    /// two Unicode property lookups, which cost a subject line most of its 35,000 instructions.
    static func separates(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar.value <= 0x20 || scalar.value == 0x7F }
        let category = scalar.properties.generalCategory
        return category == .control || category == .lineSeparator || category == .paragraphSeparator
            || scalar.properties.isWhitespace
    }
}
