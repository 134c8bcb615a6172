import Foundation

/// An email address checked against RFC 5321 `Mailbox` syntax, ready for the SMTP envelope and
/// for message headers.
///
/// Accepted: a dot-string local part (`john.doe+tag`) of at most 64 octets and a domain of
/// letter-digit-hyphen labels. An internationalized domain (`müller.de`) is accepted and
/// converted to its ASCII form (`xn--mller-kva.de`, IDNA: Unicode NFC, lower case, Punycode), so
/// the message needs no SMTPUTF8 support from the server. Refused, each with its reason: a
/// non-ASCII local part (that would need SMTPUTF8), quoted local parts, address literals
/// (`[192.0.2.1]`), spaces, angle brackets, CR/LF and other control characters.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    /// The part before the `@`, as given.
    public let localPart: String
    /// The domain in ASCII (lower case; Punycode for internationalized labels).
    public let domain: String

    /// Checks `text` and builds the address; `field` names the input in the error.
    public init(_ text: String, field: String = "address") throws(MessageError) {
        func refuse(_ reason: String) -> MessageError { .invalidAddress(field: field, reason: reason) }
        if text.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) { throw .lineBreakInHeader(field: field) }
        guard let at = text.lastIndex(of: "@") else { throw refuse("it has no @") }
        let local = String(text[..<at])
        let rawDomain = String(text[text.index(after: at)...])
        guard !local.isEmpty else { throw refuse("the part before @ is empty") }
        guard local.utf8.count <= 64 else { throw refuse("the part before @ is longer than 64 octets") }
        guard local.unicodeScalars.allSatisfy(\.isASCII) else {
            throw refuse("the part before @ is not ASCII (internationalized local parts need SMTPUTF8, not supported)")
        }
        if local.hasPrefix("\"") { throw refuse("quoted local parts are not supported") }
        guard local.unicodeScalars.allSatisfy({ $0 == "." || Self.isAtext($0) }) else {
            throw refuse("the part before @ contains a character that is not allowed (space, <, >, @, comma, …)")
        }
        guard !local.hasPrefix("."), !local.hasSuffix("."), !Self.hasDoubledDot(local) else {
            throw refuse("the part before @ has a leading, trailing or doubled dot")
        }
        self.localPart = local
        self.domain = try Self.asciiDomain(rawDomain, refuse: refuse)
        guard localPart.utf8.count + 1 + domain.utf8.count <= 254 else {
            throw refuse("the address is longer than 254 octets")
        }
    }

    /// `local@domain`, the form used in `MAIL FROM:<…>`, `RCPT TO:<…>` and headers.
    public var description: String { "\(localPart)@\(domain)" }

    /// Whether `text` has two dots in a row (read as bytes: Foundation's `contains` of a string is
    /// many times dearer, and every stored delivery's decoding checks an address).
    private static func hasDoubledDot(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "."), previous == byte { return true }
            previous = byte
        }
        return false
    }

    /// RFC 5322 `atext`: the characters a dot-atom may contain besides the dot.
    package static func isAtext(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9": return true
        default: return "!#$%&'*+-/=?^_`{|}~".unicodeScalars.contains(scalar)
        }
    }

    /// Letters, marks, digits and the hyphen: what an internationalized label is made of.
    private static func mayAppearInIDNLabel(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .lowercaseLetter, .uppercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .nonspacingMark, .spacingMark, .decimalNumber:
            return true
        default:
            return scalar == "-"
        }
    }

    private static func asciiDomain(
        _ raw: String,
        refuse: (String) -> MessageError
    ) throws(MessageError) -> String {
        guard !raw.isEmpty else { throw refuse("the domain is empty") }
        if raw.hasPrefix("[") { throw refuse("address literals ([…]) are not supported") }
        // An ASCII domain is its own NFC form: only a Unicode one is normalized (through Foundation,
        // the costly part of checking an address, which every stored delivery's decoding does).
        let normalized = (raw.utf8.allSatisfy { $0 < 0x80 } ? raw : raw.precomposedStringWithCanonicalMapping)
            .lowercased()
        let labels = normalized.split(separator: ".", omittingEmptySubsequences: false)
        var asciiLabels: [String] = []
        for label in labels {
            guard !label.isEmpty else {
                throw refuse("the domain has an empty label (leading, trailing or doubled dot)")
            }
            var ascii = String(label)
            if !label.unicodeScalars.allSatisfy(\.isASCII) {
                guard label.unicodeScalars.allSatisfy(Self.mayAppearInIDNLabel) else {
                    throw refuse("the domain contains a character that is not a letter, digit or hyphen")
                }
                guard let encoded = Punycode.encode(String(label)) else {
                    throw refuse("the domain cannot be converted to ASCII (Punycode)")
                }
                ascii = "xn--" + encoded
            }
            guard ascii.utf8.count <= 63 else { throw refuse("a label of the domain is longer than 63 octets") }
            guard ascii.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
            else { throw refuse("the domain contains a character that is not a letter, digit or hyphen") }
            guard !ascii.hasPrefix("-"), !ascii.hasSuffix("-") else {
                throw refuse("a label of the domain starts or ends with a hyphen")
            }
            asciiLabels.append(ascii)
        }
        let domain = asciiLabels.joined(separator: ".")
        guard domain.utf8.count <= 253 else { throw refuse("the domain is longer than 253 octets") }
        return domain
    }
}
