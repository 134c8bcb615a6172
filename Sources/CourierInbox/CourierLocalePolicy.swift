import Foundation
import JSONValue
import Templates

/// Chooses the locale of a courier email: the first of a configurable list of members of
/// `template_data` that holds a language tag (default: the identity's `traits.locale`, its
/// `metadata_public.locale`, the registration traits' `locale`, the flow's `transient_payload.locale`),
/// then the languages of the end user's `Accept-Language` header by their q-values (Kratos v26.2+, code
/// types), then the default locale. A candidate counts when the catalog has the template in it or in a
/// less specific tag of it (RFC 4647 lookup: `de-AT` → `de`); candidates that are not well-formed BCP 47
/// tags are skipped.
public struct CourierLocalePolicy: Sendable, Equatable {
    /// The member paths tried when none are configured. `traits.locale` is where
    /// `registration_code_valid` carries the traits (it has no identity yet).
    public static let defaultPaths = [
        "identity.traits.locale", "identity.metadata_public.locale", "traits.locale", "transient_payload.locale",
    ]

    /// The member paths, each split at its dots.
    public let paths: [[String]]

    /// A policy trying `paths` (dotted, relative to `template_data`; segments `[A-Za-z0-9_-]+`).
    public init(paths: [String] = defaultPaths) throws(CourierLocalePathError) {
        self.paths = try paths.map { (path) throws(CourierLocalePathError) in
            let segments = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let valid = segments.allSatisfy { segment in
                !segment.isEmpty
                    && segment.unicodeScalars.allSatisfy {
                        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
                            || $0 == "-"
                    }
            }
            guard valid else { throw CourierLocalePathError(path: path) }
            return segments
        }
    }

    /// The language tags `message` asks for, most wanted first: the configured members, then
    /// `Accept-Language`.
    public func preferences(for message: KratosCourierMessage) -> [LanguageTag] {
        var tags: [LanguageTag] = []
        for path in paths {
            var value: JSONValue? = message.templateData
            for segment in path { value = value?[segment] }
            if let text = value?.stringValue, let tag = try? LanguageTag(text) { tags.append(tag) }
        }
        let acceptLanguage = message.requestHeaders.filter { $0.key.lowercased() == "accept-language" }
            .sorted { $0.key < $1.key }.flatMap { $0.value }
        return tags + AcceptLanguage.parse(acceptLanguage)
    }

    /// The locale to render `message` in: the first preference whose fallback chain reaches one of
    /// `available` (canonical tags, e.g. `catalog.locales(of: type.rawValue)`), else `defaultLocale`.
    public func resolve(_ message: KratosCourierMessage, available: [String], defaultLocale: String) -> String {
        for tag in preferences(for: message) {
            if let match = tag.fallbackChain.first(where: { available.contains($0) }) { return match }
        }
        return defaultLocale
    }
}

/// A locale path that is not dot-separated `[A-Za-z0-9_-]+` segments.
public struct CourierLocalePathError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The path as configured.
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public var description: String {
        "locale path `\(path)` is not a dotted path of [A-Za-z0-9_-]+ members (e.g. identity.traits.locale)"
    }
}

/// The HTTP `Accept-Language` header (RFC 9110 §12.5.4).
public enum AcceptLanguage {
    /// The language tags of the header's field values (several lines are one comma-separated list),
    /// highest q-value first and, among equal q-values, in the order given; `*`, `q=0`, malformed
    /// q-values and tags that are not well-formed BCP 47 are left out.
    public static func parse(_ values: [String]) -> [LanguageTag] {
        var ranked: [(tag: LanguageTag, quality: Double, position: Int)] = []
        for item in values.joined(separator: ",").split(separator: ",") {
            let parameters = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let range = parameters.first, range != "*", let tag = try? LanguageTag(range) else { continue }
            var quality = 1.0
            for parameter in parameters.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                guard pair.count == 2, pair[0].lowercased() == "q" else { continue }
                guard let value = qvalue(pair[1]) else {
                    quality = 0
                    break
                }
                quality = value
            }
            if quality > 0 { ranked.append((tag, quality, ranked.count)) }
        }
        return ranked.sorted { ($0.quality, -$0.position) > ($1.quality, -$1.position) }.map(\.tag)
    }

    /// An RFC 9110 qvalue: `0`, `0.ddd`, `1` or `1.000` (up to three decimals).
    private static func qvalue(_ text: String) -> Double? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, whole == "0" || whole == "1" else { return nil }
        if parts.count == 2 {
            let fraction = parts[1]
            guard fraction.count <= 3, fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            if whole == "1", fraction.contains(where: { $0 != "0" }) { return nil }
            if whole == "0", !fraction.isEmpty { return Double("0." + fraction) }
        }
        return whole == "1" ? 1 : 0
    }
}
