import Foundation
import GoDuration

/// Reads one mapping of the document (a section or an API key entry): refuses keys it does not know,
/// and turns each scalar into a typed value or a ``ConfigurationError`` naming the key path.
///
/// Every scalar is read as text and parsed here, not by the decoder, so that the errors say what
/// the key expects and never repeat the value (which could be a secret).
struct SectionReader {
    private let container: KeyedDecodingContainer<AnyCodingKey>
    /// The path of this mapping, e.g. `smtp` or `api_keys[0]`; empty for the document itself.
    let path: String

    init(_ decoder: any Decoder, known: [String]) throws {
        path = CodingPath.render(decoder.codingPath)
        do {
            container = try decoder.container(keyedBy: AnyCodingKey.self)
        } catch {
            throw ConfigurationError(key: path, problem: "must be a mapping of keys to values")
        }
        let unknown = container.allKeys.map(\.stringValue).filter { !known.contains($0) }.sorted()
        if let first = unknown.first {
            throw ConfigurationError(
                key: keyPath(first),
                problem: "unknown key (known keys here: \(known.joined(separator: ", ")))"
            )
        }
    }

    /// `path.key`.
    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func error(_ key: String, _ problem: String) -> ConfigurationError {
        ConfigurationError(key: keyPath(key), problem: problem)
    }

    /// The scalar's text; `nil` when the key is absent or null.
    func text(_ key: String) throws -> String? {
        let codingKey = AnyCodingKey(key)
        guard container.contains(codingKey) else { return nil }
        if (try? container.decodeNil(forKey: codingKey)) == true { return nil }
        do {
            return try container.decode(String.self, forKey: codingKey)
        } catch {
            throw self.error(key, "must be a single value, not a list or a mapping")
        }
    }

    /// A required, non-empty text without control characters.
    func string(_ key: String, default fallback: String) throws -> String {
        guard let text = try text(key) else { return fallback }
        guard !text.isEmpty else { throw error(key, "must not be empty") }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw error(key, "must not contain control characters or line breaks")
        }
        return text
    }

    /// An optional text: absent, null and `""` all mean "not set".
    func optionalString(_ key: String, default fallback: String?) throws -> String? {
        guard let text = try text(key) else { return fallback }
        guard !text.isEmpty else { return nil }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw error(key, "must not contain control characters or line breaks")
        }
        return text
    }

    /// An integer within `range`.
    func int(_ key: String, in range: ClosedRange<Int>, default fallback: Int) throws -> Int {
        guard let text = try text(key) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw error(key, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A decimal number greater than zero and at most `maximum`.
    func positiveNumber(_ key: String, maximum: Double, default fallback: Double) throws -> Double {
        guard let text = try text(key) else { return fallback }
        guard let value = Double(text), value.isFinite, value > 0, value <= maximum else {
            throw error(key, "must be a number greater than 0 and at most \(Int(maximum))")
        }
        return value
    }

    /// A Go-style duration (`60s`, `5m`, `1h`, `500ms`); zero only when `allowZero`.
    func duration(_ key: String, allowZero: Bool = false, default fallback: Duration) throws -> Duration {
        guard let text = try text(key) else { return fallback }
        let expectation = allowZero ? "a duration of 0s or more" : "a duration greater than zero"
        guard let parsed = GoDurationSyntax.parse(text) else {
            throw error(key, "must be \(expectation), written like 500ms, 60s, 5m or 1h")
        }
        guard let nanoseconds = parsed.value else { throw error(key, "is too long (at most about 292 years)") }
        guard nanoseconds > 0 || (allowZero && nanoseconds == 0) else { throw error(key, "must be \(expectation)") }
        return .nanoseconds(nanoseconds)
    }

    /// One of `choices` (case-sensitive, as written in the documentation).
    func choice(_ key: String, _ choices: [String], default fallback: String) throws -> String {
        guard let text = try text(key) else { return fallback }
        guard choices.contains(text) else { throw error(key, "must be one of \(choices.joined(separator: ", "))") }
        return text
    }

    /// A list of texts; `nil` when absent.
    func stringList(_ key: String) throws -> [String]? {
        let codingKey = AnyCodingKey(key)
        guard container.contains(codingKey) else { return nil }
        if (try? container.decodeNil(forKey: codingKey)) == true { return nil }
        do {
            return try container.decode([String].self, forKey: codingKey)
        } catch {
            throw self.error(key, "must be a list of single values")
        }
    }

    /// A list of texts, written as a YAML list or as one comma-separated value (as an environment
    /// variable gives it); `nil` when absent.
    func textList(_ key: String) throws -> [String]? {
        if let list = try? stringList(key) { return list }
        guard let text = try text(key) else { return nil }
        return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// A nested value decoded by `T` (`expected` names its shape for the error); `nil` when absent or null.
    func nested<T: Decodable>(_ type: T.Type, _ key: String, expected: String) throws -> T? {
        let codingKey = AnyCodingKey(key)
        guard container.contains(codingKey) else { return nil }
        if (try? container.decodeNil(forKey: codingKey)) == true { return nil }
        do {
            return try container.decode(type, forKey: codingKey)
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw self.error(key, "must be \(expected)")
        }
    }
}
