import Foundation

/// An RFC 5322 Message-ID such as `<0c5a…@example.com>`.
///
/// The gateway fixes a delivery's Message-ID when it accepts the request and sends every attempt
/// with the same one, so receivers can fold duplicates after a retry.
public struct MessageID: Sendable, Hashable, CustomStringConvertible {
    /// The full value including the angle brackets.
    public let value: String

    /// A new, unique Message-ID in the domain of the sender (`<uuid@domain>`).
    public static func generate(domain: String) -> MessageID {
        MessageID(trusted: "<\(UUID().uuidString.lowercased())@\(domain)>")
    }

    /// Parses a stored Message-ID (`<left@right>`, both sides dot-atoms).
    public init(_ value: String) throws(MessageError) {
        guard value.hasPrefix("<"), value.hasSuffix(">"), value.count > 2 else {
            throw .invalidMessageID(reason: "must be enclosed in < and >")
        }
        let inner = value.dropFirst().dropLast()
        let parts = inner.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw .invalidMessageID(reason: "must have exactly one @") }
        for part in parts {
            guard !part.isEmpty, !part.hasPrefix("."), !part.hasSuffix("."), !part.contains(".."),
                part.unicodeScalars.allSatisfy({ $0 == "." || EmailAddress.isAtext($0) })
            else { throw .invalidMessageID(reason: "each side of @ must be a dot-atom") }
        }
        guard value.utf8.count <= 250 else { throw .invalidMessageID(reason: "longer than 250 octets") }
        self.value = value
    }

    private init(trusted value: String) { self.value = value }

    public var description: String { value }
}
