import Foundation

/// MIME content transfer encodings for UTF-8 text bodies (RFC 2045 §6.7 and §6.8).
///
/// Text goes out as quoted-printable, which keeps mostly-ASCII bodies readable and small; text
/// where more than a third of the octets would need escaping (Cyrillic, CJK, …) goes out as
/// base64, which is then the shorter of the two. Either way every line ends in CRLF and is at
/// most 76 characters long. The work is done on the UTF-8 octets, not on characters.
public enum BodyEncoding: String, Sendable {
    case quotedPrintable = "quoted-printable"
    case base64

    /// The encoding this module picks for `text`.
    static func choose(for text: String) -> BodyEncoding {
        var text = text
        return text.withUTF8 { bytes in
            // No branch per octet: the count adds 0 or 1 (the profile still shows about 6 instructions
            // per octet; the compiler does not vectorize it).
            var escaped = 0
            for byte in bytes { escaped &+= Int(truncatingIfNeeded: (byte >> 7) | (byte == UInt8(ascii: "=") ? 1 : 0)) }
            return escaped * 3 > bytes.count ? .base64 : .quotedPrintable
        }
    }

    /// `text` with its line ends made CRLF, encoded; the result ends with CRLF.
    func encode(_ text: String) -> String {
        var output: [UInt8] = []
        encode(text, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends `text` with its line ends made CRLF, encoded, to `output`; what it appends ends with
    /// CRLF (nothing for an empty text in base64).
    func encode(_ text: String, into output: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            let lines = Self.lines(of: bytes)
            switch self {
            case .base64:
                var joined: [UInt8] = []
                joined.reserveCapacity(bytes.count + lines.count)
                for (index, line) in lines.enumerated() {
                    if index > 0 { joined += Self.crlf }
                    joined += bytes[line]
                }
                let encoded = Data(joined).base64EncodedData(options: [
                    .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
                ])
                if !encoded.isEmpty {
                    output += encoded
                    output += Self.crlf
                }
            case .quotedPrintable:
                // At most 3 octets per input octet; a soft break ends at least 73 columns, so at most
                // one 3-octet break per 24 input octets; CRLF per line.
                let capacity = 3 * bytes.count + 3 * (bytes.count / 24 + 1) + 2 * lines.count
                output += [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                    for line in lines {
                        count = Self.writeQuotedPrintable(
                            UnsafeBufferPointer(rebasing: bytes[line]),
                            to: buffer,
                            at: count
                        )
                        buffer[count] = 0x0D
                        buffer[count + 1] = 0x0A
                        count += 2
                    }
                }
            }
        }
    }

    private static let crlf: [UInt8] = [0x0D, 0x0A]

    /// The ranges of the lines of `bytes` (UTF-8): split where a `Character` is a newline (CRLF,
    /// LF, CR, VT, FF, NEL, U+2028, U+2029, each a grapheme break on both sides); a final line
    /// end adds no empty line.
    static func lines(of bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var lines: [Range<Int>] = []
        var start = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            // Most octets are neither a line end (0x0A–0x0D) nor the lead octet of one (0xC2, 0xE2).
            if (byte > 0x0D && byte != 0xC2 && byte != 0xE2) || byte < 0x0A {
                index &+= 1
                continue
            }
            let separator: Int
            switch byte {
            case 0x0D: separator = index + 1 < bytes.count && bytes[index + 1] == 0x0A ? 2 : 1
            case 0x0A, 0x0B, 0x0C: separator = 1
            case 0xC2 where index + 1 < bytes.count && bytes[index + 1] == 0x85: separator = 2
            case 0xE2
            where index + 2 < bytes.count && bytes[index + 1] == 0x80 && (bytes[index + 2] & 0xFE) == 0xA8:
                separator = 3
            default: separator = 0
            }
            if separator > 0 {
                lines.append(start..<index)
                index += separator
                start = index
            } else {
                index += 1
            }
        }
        lines.append(start..<bytes.count)
        if lines.count > 1, lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    /// One line in quoted-printable, with soft line breaks (`=` CRLF) so that no encoded line
    /// passes 76 characters, written to `buffer` from `start`; answers where it ended. `=`, non-ASCII,
    /// control characters, a blank at the end of the line and the `F` of a line starting with `From `
    /// (which mbox files would mangle) are escaped.
    private static func writeQuotedPrintable(
        _ line: UnsafeBufferPointer<UInt8>,
        to buffer: UnsafeMutableBufferPointer<UInt8>,
        at start: Int
    ) -> Int {
        // Unchecked arithmetic on indices bounded by the line and by the buffer's capacity, which
        // `encode` sizes for the worst case.
        let count = line.count
        let startsFrom =
            count >= 5 && line[0] == UInt8(ascii: "F") && line[1] == UInt8(ascii: "r")
            && line[2] == UInt8(ascii: "o") && line[3] == UInt8(ascii: "m") && line[4] == UInt8(ascii: " ")
        var end = start
        var column = 0
        var index = 0
        while index < count {
            let byte = line[index]
            let isLast = index == count &- 1
            let literal =
                (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=") && !(startsFrom && index == 0))
                || ((byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")) && !isLast)
            let width = literal ? 1 : 3
            // Keep room for the soft break "=" unless this is the line's last token.
            if column &+ width > (isLast ? 76 : 75) {
                buffer[end] = UInt8(ascii: "=")
                buffer[end &+ 1] = 0x0D
                buffer[end &+ 2] = 0x0A
                end &+= 3
                column = 0
            }
            if literal {
                buffer[end] = byte
                end &+= 1
            } else {
                buffer[end] = UInt8(ascii: "=")
                buffer[end &+ 1] = hexDigit(byte >> 4)
                buffer[end &+ 2] = hexDigit(byte & 0x0F)
                end &+= 3
            }
            column &+= width
            index &+= 1
        }
        return end
    }

    /// `0`–`9`, `A`–`F` for a value below 16.
    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") &+ value : UInt8(ascii: "A") &+ (value &- 10)
    }
}
