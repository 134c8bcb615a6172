import Foundation
import UUIDText

/// An RFC 5322 Message-ID such as `<0c5a…@example.com>`.
///
/// The gateway fixes a delivery's Message-ID when it accepts the request and sends every attempt
/// with the same one, so receivers can fold duplicates after a retry.
public struct MessageID: Sendable, Hashable, CustomStringConvertible {
    /// The full value including the angle brackets.
    public let value: String

    /// A new, unique Message-ID in the domain of the sender (`<uuid@domain>`).
    public static func generate(domain: String) -> MessageID {
        MessageID(trusted: "<\(UUID().lowercasedString)@\(domain)>")
    }

    /// Parses a stored Message-ID (`<left@right>`, both sides dot-atoms). Every stored delivery's
    /// decoding parses one, so it reads the UTF-8 bytes once, without Foundation.
    public init(_ value: String) throws(MessageError) {
        let bytes = value.utf8
        guard bytes.count > 2, bytes.first == UInt8(ascii: "<"), bytes.last == UInt8(ascii: ">") else {
            throw .invalidMessageID(reason: "must be enclosed in < and >")
        }
        let inner = bytes.dropFirst().dropLast()
        guard inner.lazy.filter({ $0 == UInt8(ascii: "@") }).count == 1 else {
            throw .invalidMessageID(reason: "must have exactly one @")
        }
        // Each side of the @ is a dot-atom: atext, with no dot first, last or next to another.
        let (at, dot) = (UInt8(ascii: "@"), UInt8(ascii: "."))
        var previous = at
        for byte in inner {
            let valid =
                byte == at || byte == dot
                ? previous != at && previous != dot : byte < 0x80 && EmailAddress.isAtext(Unicode.Scalar(byte))
            guard valid else { throw .invalidMessageID(reason: "each side of @ must be a dot-atom") }
            previous = byte
        }
        guard previous != at, previous != dot else {
            throw .invalidMessageID(reason: "each side of @ must be a dot-atom")
        }
        guard bytes.count <= 250 else { throw .invalidMessageID(reason: "longer than 250 octets") }
        self.value = value
    }

    private init(trusted value: String) { self.value = value }

    public var description: String { value }
}
