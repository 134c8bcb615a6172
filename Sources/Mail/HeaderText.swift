import Foundation

/// Header field values: the check that keeps input from breaking out of its header, and the
/// RFC 2047 / RFC 5322 encodings that carry any Unicode text in a 7-bit, folded header.
enum HeaderText {
    /// Lines are folded to stay within this many octets where possible (RFC 5322 2.1.1).
    static let foldWidth = 78

    /// Refuses CR, LF and other control characters (tab is allowed) in a header input.
    static func check(_ value: String, field: String) throws(MessageError) {
        for scalar in value.unicodeScalars {
            if scalar == "\r" || scalar == "\n" || scalar == "\u{2028}" || scalar == "\u{2029}" || scalar == "\u{85}" {
                throw .lineBreakInHeader(field: field)
            }
            if scalar != "\t" && (scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)) {
                throw .controlCharacterInHeader(field: field)
            }
        }
    }

    /// `Name: value` for unstructured text (Subject): kept as it is when it is printable ASCII
    /// that folds at spaces within 78 columns, otherwise RFC 2047 encoded words.
    static func unstructured(name: String, value: String) -> String {
        let prefix = "\(name): "
        if isPlainASCII(value), let folded = foldAtSpaces(prefix: prefix, value) {
            return folded
        }
        return prefix + encodedWords(value, firstLineUsed: prefix.utf8.count)
    }

    /// An RFC 5322 `phrase` for a display name: an atom sequence, a quoted string, or encoded words.
    static func phrase(_ value: String, firstLineUsed: Int) -> String {
        if isPlainASCII(value) {
            let isAtoms = value.split(separator: " ").allSatisfy { word in
                word.unicodeScalars.allSatisfy(EmailAddress.isAtext)
            }
            if isAtoms && !value.hasPrefix(" ") && !value.hasSuffix(" ") && !value.contains("  ") {
                return value
            }
            let quoted =
                "\""
                + value.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"") + "\""
            if firstLineUsed + quoted.utf8.count <= foldWidth { return quoted }
        }
        return encodedWords(value, firstLineUsed: firstLineUsed)
    }

    /// Printable ASCII with no sequence a reader could take for an encoded word.
    private static func isPlainASCII(_ value: String) -> Bool {
        value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F } && !value.contains("=?")
    }

    /// Folds at spaces so that every line fits in 78 octets; `nil` when a word is too long for that.
    private static func foldAtSpaces(prefix: String, _ value: String) -> String? {
        var words = value.split(separator: " ", omittingEmptySubsequences: false)[...]
        var lines: [String] = []
        var line = prefix + (words.popFirst() ?? "")
        for word in words {
            // An empty word (a doubled space) stays on its line: a folded line must not be all blanks.
            if word.isEmpty || line.utf8.count + 1 + word.utf8.count <= foldWidth {
                line += " " + word
            } else {
                lines.append(line)
                line = " " + word
            }
            if line.utf8.count > foldWidth { return nil }
        }
        lines.append(line)
        return lines.allSatisfy({ $0.utf8.count <= foldWidth }) ? lines.joined(separator: "\r\n") : nil
    }

    /// RFC 2047 `=?UTF-8?B?…?=` words, each at most 75 octets and holding whole characters,
    /// separated by folding white space so that no line passes 78 octets.
    static func encodedWords(_ value: String, firstLineUsed: Int) -> String {
        let overhead = "=?UTF-8?B??=".utf8.count
        var words: [String] = []
        var chunk: [UInt8] = []
        var budget = maxPayloadOctets(lineRoom: foldWidth - firstLineUsed - overhead)
        func flush() {
            words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
            chunk.removeAll(keepingCapacity: true)
            budget = maxPayloadOctets(lineRoom: foldWidth - 1 - overhead)
        }
        for character in value {
            let bytes = Array(String(character).utf8)
            if !chunk.isEmpty && chunk.count + bytes.count > budget { flush() }
            // A character longer than a whole word (a long grapheme cluster) is split at scalar
            // boundaries, which still keeps every word valid UTF-8.
            if bytes.count > budget {
                for scalar in character.unicodeScalars {
                    let scalarBytes = Array(String(scalar).utf8)
                    if !chunk.isEmpty && chunk.count + scalarBytes.count > budget { flush() }
                    chunk += scalarBytes
                }
            } else {
                chunk += bytes
            }
        }
        if !chunk.isEmpty || words.isEmpty { flush() }
        return words.joined(separator: "\r\n ")
    }

    /// How many octets fit in a B-encoded word whose base64 text may use `lineRoom` characters.
    private static func maxPayloadOctets(lineRoom: Int) -> Int {
        max(3, (min(lineRoom, 75 - 12) / 4) * 3)
    }
}
