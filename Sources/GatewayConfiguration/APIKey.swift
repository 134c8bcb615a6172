import Audit
import Crypto
import Domain
import Foundation

/// An API key the gateway accepts: its name (the audit log's actor), the SHA-256 of the key, and its scopes.
/// The key itself is never configured; ``matches(presentedKey:)`` checks a presented one.
public struct APIKey: Sendable, Equatable, Decodable {
    /// What a key may do: the domain's scopes.
    public typealias Scope = Domain.Scope

    /// The key's name, unique among the configured keys.
    public var name: String
    /// The SHA-256 of the key, 64 lower-case hex digits.
    public var sha256: String
    /// What the key may do.
    public var scopes: Set<Scope>

    /// Checks and builds a key; `sha256` must be 64 lower-case hex digits and `name` non-empty.
    public init(name: String, sha256: String, scopes: Set<Scope>) throws(ConfigurationError) {
        guard !name.isEmpty else { throw ConfigurationError(key: "api_keys.name", problem: "must not be empty") }
        guard Self.digest(ofHex: sha256) != nil else {
            throw ConfigurationError(key: "api_keys.sha256", problem: Self.hexProblem)
        }
        self.name = name
        self.sha256 = sha256
        self.scopes = scopes
    }

    /// Whether the SHA-256 of `presentedKey` (its UTF-8 bytes) is ``sha256``, compared in constant time.
    public func matches(presentedKey: String) -> Bool {
        matches(digest: Self.digest(of: presentedKey))
    }

    /// Whether `actual` (a presented key's ``digest(of:)``, hashed once for all configured keys) is
    /// ``sha256``, compared in constant time.
    public func matches(digest actual: [UInt8]) -> Bool {
        guard let expected = Self.digest(ofHex: sha256) else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(actual, expected) { difference |= left ^ right }
        return difference == 0 && actual.count == expected.count
    }

    /// The SHA-256 of `key`'s UTF-8 bytes.
    public static func digest(of key: String) -> [UInt8] { Array(SHA256.hash(data: Data(key.utf8))) }

    /// The hex form of the SHA-256 of `key`: what goes into `api_keys[].sha256`.
    public static func sha256Hex(of key: String) -> String {
        Hex.encode(SHA256.hash(data: Data(key.utf8)))
    }

    public init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, known: ConfigurationKeys.apiKey)
        guard let name = try reader.text("name"), !name.isEmpty else { throw reader.error("name", "must not be empty") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw reader.error("name", "must not contain control characters or line breaks")
        }
        guard let sha256 = try reader.text("sha256"), Self.digest(ofHex: sha256) != nil else {
            throw reader.error("sha256", Self.hexProblem)
        }
        guard let texts = try reader.stringList("scopes"), !texts.isEmpty else {
            throw reader.error("scopes", "must list at least one of \(Self.scopeList)")
        }
        var scopes: Set<Scope> = []
        for (index, text) in texts.enumerated() {
            guard let scope = Scope(rawValue: text) else {
                throw reader.error("scopes[\(index)]", "must be one of \(Self.scopeList)")
            }
            guard scopes.insert(scope).inserted else {
                throw reader.error("scopes[\(index)]", "\(scope.rawValue) is listed twice")
            }
        }
        self.name = name
        self.sha256 = sha256
        self.scopes = scopes
    }

    private static let hexProblem = "must be the SHA-256 of the key as 64 lower-case hex digits"
    private static let scopeList = Scope.allCases.map(\.rawValue).joined(separator: ", ")

    /// The 32 bytes written as 64 lower-case hex digits, or `nil`.
    private static func digest(ofHex hex: String) -> [UInt8]? {
        guard hex.utf8.count == 64 else { return nil }
        return Hex.decode(hex, allowingUpperCase: false)
    }
}
