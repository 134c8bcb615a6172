/// A well-formed BCP 47 language tag (RFC 5646 `langtag`) in canonical case, with its RFC 4647 lookup
/// fallback chain. Grandfathered and private-use-only tags are not accepted.
public struct LanguageTag: Sendable, Hashable, CustomStringConvertible {
    /// The subtags in canonical case: language lower case, script title case, region upper case.
    public let subtags: [String]

    /// The longest tag accepted; RFC 5646 §4.4.1 asks implementations to support at least 35 characters.
    static let maximumLength = 64

    /// Parses `text`, refusing anything that is not a well-formed tag (so it can never be used as a path).
    public init(_ text: String) throws(TemplateError) {
        guard !text.isEmpty, text.utf8.count <= Self.maximumLength else {
            throw TemplateError(.invalidLocale, "locale \(quoted(text)) is not a BCP 47 language tag (1-64 characters)")
        }
        guard text.utf8.allSatisfy({ Self.isAlphanumeric($0) || $0 == UInt8(ascii: "-") }) else {
            let hint = text.contains("_") ? "; BCP 47 separates subtags with `-`, not `_`" : ""
            throw TemplateError(.invalidLocale, "locale \(quoted(text)) is not a BCP 47 language tag\(hint)")
        }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { String($0) }
        guard let subtags = Self.canonical(parts) else {
            throw TemplateError(.invalidLocale, "locale \(quoted(text)) is not a well-formed BCP 47 language tag")
        }
        self.subtags = subtags
    }

    public var description: String { subtags.joined(separator: "-") }

    /// The tags to try, most specific first: `de-CH-1996` → `de-CH-1996`, `de-CH`, `de` (RFC 4647 §3.4).
    public var fallbackChain: [String] {
        var chain: [String] = []
        var current = subtags
        while !current.isEmpty {
            chain.append(current.joined(separator: "-"))
            current.removeLast()
            if let last = current.last, last.count == 1 { current.removeLast() }
        }
        return chain
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isAlpha(byte) || isDigit(byte)
    }

    private static func isAlpha(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func allAlpha(_ text: String) -> Bool { text.utf8.allSatisfy(isAlpha) }
    private static func allDigits(_ text: String) -> Bool { text.utf8.allSatisfy(isDigit) }

    /// Walks the RFC 5646 grammar; returns the canonical subtags or `nil` when not well-formed.
    private static func canonical(_ parts: [String]) -> [String]? {
        var index = 0
        var result: [String] = []
        func peek() -> String? { index < parts.count ? parts[index] : nil }

        // language: 2-3 letters (+ up to three 3-letter extlangs) or 4-8 letters.
        guard let language = peek(), (2...8).contains(language.count), allAlpha(language) else { return nil }
        result.append(language.lowercased())
        index += 1
        if language.count <= 3 {
            var extlangs = 0
            while extlangs < 3, let next = peek(), next.count == 3, allAlpha(next) {
                result.append(next.lowercased())
                index += 1
                extlangs += 1
            }
        }
        // script: 4 letters.
        if let next = peek(), next.count == 4, allAlpha(next) {
            result.append(next.prefix(1).uppercased() + next.dropFirst().lowercased())
            index += 1
        }
        // region: 2 letters or 3 digits.
        if let next = peek(), (next.count == 2 && allAlpha(next)) || (next.count == 3 && allDigits(next)) {
            result.append(next.uppercased())
            index += 1
        }
        // variants: 5-8 alphanumerics, or a digit followed by 3 alphanumerics; no repeats.
        while let next = peek(),
            (5...8).contains(next.count) || (next.count == 4 && isDigit(next.utf8.first!))
        {
            let variant = next.lowercased()
            guard !result.contains(variant) else { return nil }
            result.append(variant)
            index += 1
        }
        // extensions: a singleton (not x) followed by one or more 2-8 alphanumeric subtags; no repeats.
        var singletons: Set<String> = []
        while let next = peek(), next.count == 1, next.lowercased() != "x" {
            let singleton = next.lowercased()
            guard singletons.insert(singleton).inserted else { return nil }
            result.append(singleton)
            index += 1
            var count = 0
            while let subtag = peek(), (2...8).contains(subtag.count) {
                result.append(subtag.lowercased())
                index += 1
                count += 1
            }
            guard count > 0 else { return nil }
        }
        // private use: x followed by one or more 1-8 alphanumeric subtags.
        if let next = peek(), next.lowercased() == "x" {
            result.append("x")
            index += 1
            var count = 0
            while let subtag = peek(), (1...8).contains(subtag.count) {
                result.append(subtag.lowercased())
                index += 1
                count += 1
            }
            guard count > 0 else { return nil }
        }
        return index == parts.count ? result : nil
    }
}
