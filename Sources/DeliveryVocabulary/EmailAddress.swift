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
        if let plain = Self.plainASCII(text) {
            self = plain
        } else {
            try self.init(checkingFully: text, field: field)
        }
    }

    /// The check rule by rule, which names the first rule `text` breaks: what ``init(_:field:)``
    /// runs for anything ``plainASCII(_:)`` does not accept.
    package init(checkingFully text: String, field: String = "address") throws(MessageError) {
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

    private init(localPart: String, domain: String) {
        self.localPart = localPart
        self.domain = domain
    }

    /// The common case in one pass over the octets: an all-ASCII address that every rule accepts,
    /// its domain in lower case. `nil` for anything else, which the full check then refuses with its
    /// reason or accepts (an internationalized domain). Every stored delivery's decoding checks its
    /// address again: the full check cost 17,000 instructions per address, most of it in Unicode
    /// scalar views and Foundation.
    package static func plainASCII(_ text: String) -> EmailAddress? {
        var text = text
        return text.withUTF8 { octets -> EmailAddress? in
            guard let at = octets.lastIndex(of: UInt8(ascii: "@")) else { return nil }
            let local = UnsafeBufferPointer(rebasing: octets[..<at])
            let domain = UnsafeBufferPointer(rebasing: octets[(at + 1)...])
            guard (1...64).contains(local.count), (1...253).contains(domain.count), octets.count <= 254 else {
                return nil
            }
            // The local part: atext and single dots, neither first nor last.
            var previous = UInt8(ascii: ".")
            for octet in local {
                if octet == UInt8(ascii: ".") {
                    guard previous != octet else { return nil }
                } else {
                    guard octet < 0x80, isAtext(Unicode.Scalar(octet)) else { return nil }
                }
                previous = octet
            }
            guard previous != UInt8(ascii: ".") else { return nil }
            // The domain: labels of 1…63 letters, digits and inner hyphens, lower-cased.
            var lowered: [UInt8] = []
            lowered.reserveCapacity(domain.count)
            var labelLength = 0
            previous = UInt8(ascii: ".")
            for octet in domain {
                let octet = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(octet) ? octet | 0x20 : octet
                switch octet {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    labelLength += 1
                case UInt8(ascii: "-"):
                    guard labelLength > 0 else { return nil }
                    labelLength += 1
                case UInt8(ascii: "."):
                    guard labelLength > 0, previous != UInt8(ascii: "-") else { return nil }
                    labelLength = 0
                default:
                    return nil
                }
                guard labelLength <= 63 else { return nil }
                lowered.append(octet)
                previous = octet
            }
            guard labelLength > 0, previous != UInt8(ascii: "-") else { return nil }
            return EmailAddress(
                localPart: String(decoding: local, as: UTF8.self),
                domain: String(decoding: lowered, as: UTF8.self)
            )
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
