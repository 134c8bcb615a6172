import Foundation

/// MIME content transfer encodings for UTF-8 text bodies (RFC 2045 §6.7 and §6.8).
///
/// Text goes out as quoted-printable, which keeps mostly-ASCII bodies readable and small; text
/// where more than a third of the octets would need escaping (Cyrillic, CJK, …) goes out as
/// base64, which is then the shorter of the two. Either way every line ends in CRLF and is at
/// most 76 characters long.
public enum BodyEncoding: String, Sendable {
    case quotedPrintable = "quoted-printable"
    case base64

    /// The encoding this module picks for `text`.
    static func choose(for text: String) -> BodyEncoding {
        let escaped = text.utf8.lazy.filter { $0 >= 0x80 || $0 == UInt8(ascii: "=") }.count
        return escaped * 3 > text.utf8.count ? .base64 : .quotedPrintable
    }

    /// `text` with its line ends made CRLF, encoded; the result ends with CRLF.
    func encode(_ text: String) -> String {
        let lines = Self.lines(of: text)
        switch self {
        case .base64:
            let data = Data(lines.joined(separator: "\r\n").utf8)
            let encoded = data.base64EncodedString(options: [
                .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
            ])
            return encoded.isEmpty ? "" : encoded + "\r\n"
        case .quotedPrintable:
            return lines.map(Self.quotedPrintableLine).joined(separator: "\r\n") + "\r\n"
        }
    }

    /// The lines of `text`, split at CRLF, LF or a lone CR; a final line end adds no empty line.
    static func lines(of text: String) -> [Substring] {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        if lines.count > 1, lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    /// One line in quoted-printable, with soft line breaks (`=` CRLF) so that no encoded line
    /// passes 76 characters. `=`, non-ASCII, control characters, a blank at the end of the line
    /// and the `F` of a line starting with `From ` (which mbox files would mangle) are escaped.
    private static func quotedPrintableLine(_ line: Substring) -> String {
        let bytes = Array(line.utf8)
        var output = ""
        var current = ""
        for (index, byte) in bytes.enumerated() {
            let isLast = index == bytes.count - 1
            let startsFrom = index == 0 && current.isEmpty && output.isEmpty && line.hasPrefix("From ")
            let literal =
                (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=") && !startsFrom)
                || ((byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")) && !isLast)
            let token = literal ? String(UnicodeScalar(byte)) : hexEscape(byte)
            // Keep room for the soft break "=" unless this is the line's last token.
            let limit = isLast ? 76 : 75
            if current.utf8.count + token.utf8.count > limit {
                output += current + "=\r\n"
                current = ""
            }
            current += token
        }
        return output + current
    }

    private static func hexEscape(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "=" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
    }
}
