/// A JSON object whose values are all strings (a log line, an audit event's details), written
/// straight to UTF-8 octets: a `JSONEncoder` per object costs more than the work around it.
///
/// The text is what Foundation's `JSONEncoder` writes for a `[String: String]` with
/// `[.sortedKeys, .withoutEscapingSlashes]`: keys in the order of their UTF-8 octets (not Swift's
/// `String` order, which compares canonical equivalents: `"a\u{301}"` sorts before `"z"` here), and
/// in strings a backslash before `"` and `\`, `\n`, `\r`, `\t`, `\b`, `\f` and `\u00XX` for the
/// other control characters; `/`, DEL and every non-ASCII character as they are.
public enum JSONStringObject {
    /// Appends `{"key":"value",…}` to `output`. A key given twice (the same octets) is written once,
    /// with its last value.
    public static func append(_ fields: [(key: String, value: String)], to output: inout [UInt8]) {
        // Sorted by key, then by position: the last of equal keys is the one kept.
        let order = fields.indices.sorted { left, right in
            let byKey = compareOctets(fields[left].key, fields[right].key)
            return byKey == 0 ? left < right : byKey < 0
        }
        output.append(UInt8(ascii: "{"))
        var first = true
        for (position, index) in order.enumerated() {
            if position + 1 < order.count, compareOctets(fields[order[position + 1]].key, fields[index].key) == 0 {
                continue
            }
            if !first { output.append(UInt8(ascii: ",")) }
            first = false
            appendString(fields[index].key, to: &output)
            output.append(UInt8(ascii: ":"))
            appendString(fields[index].value, to: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    /// Negative, zero or positive as `left`'s UTF-8 octets sort before, equal or after `right`'s.
    static func compareOctets(_ left: String, _ right: String) -> Int {
        let compared = left.utf8.withContiguousStorageIfAvailable { left in
            right.utf8.withContiguousStorageIfAvailable { right in
                for index in 0..<min(left.count, right.count) where left[index] != right[index] {
                    return Int(left[index]) - Int(right[index])
                }
                return left.count - right.count
            }
        }
        if let compared = compared ?? nil { return compared }
        // Not contiguous (a bridged string): octet by octet.
        if left.utf8.elementsEqual(right.utf8) { return 0 }
        return left.utf8.lexicographicallyPrecedes(right.utf8) ? -1 : 1
    }

    /// `{"key":"value",…}` for `object`, as ``append(_:to:)`` writes it.
    public static func text(_ object: [String: String]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        append(object.map { ($0.key, $0.value) }, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    static func appendString(_ value: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { bytes in
            // Most values need no escape: copied whole, they cost a copy instead of a branch and an
            // append per byte.
            if !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                output.append(contentsOf: bytes)
                return
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    output.append(UInt8(ascii: "\\"))
                    output.append(byte)
                case 0x0A: appendEscape(UInt8(ascii: "n"), to: &output)
                case 0x0D: appendEscape(UInt8(ascii: "r"), to: &output)
                case 0x09: appendEscape(UInt8(ascii: "t"), to: &output)
                case 0x08: appendEscape(UInt8(ascii: "b"), to: &output)
                case 0x0C: appendEscape(UInt8(ascii: "f"), to: &output)
                case ..<0x20:
                    output += Array("\\u00".utf8)
                    output.append(hexDigits[Int(byte >> 4)])
                    output.append(hexDigits[Int(byte & 0x0F)])
                default:
                    output.append(byte)
                }
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(_ letter: UInt8, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\\"))
        output.append(letter)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
