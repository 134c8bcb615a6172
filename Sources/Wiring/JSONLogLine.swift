import Foundation

/// One log line as a flat JSON object of strings, keys sorted, written straight to UTF-8 octets
/// (a `JSONEncoder` per line costs more than the rest of the logging together).
enum JSONLogLine {
    /// `{"key":"value",…}` and a line feed: keys sorted as Swift orders strings (byte order for the
    /// ASCII keys the gateway writes), a key given twice written once with its last value, strings
    /// escaped as JSON requires (quote, backslash, control characters; `/` and non-ASCII text are
    /// kept as they are).
    static func encode(_ fields: [(key: String, value: String)]) -> Data {
        // Sorted by key, then by position: the last of equal keys is the one kept.
        let order = fields.indices.sorted { left, right in
            fields[left].key == fields[right].key ? left < right : fields[left].key < fields[right].key
        }
        var output: [UInt8] = []
        output.reserveCapacity(256)
        output.append(UInt8(ascii: "{"))
        var first = true
        for (position, index) in order.enumerated() {
            if position + 1 < order.count, fields[order[position + 1]].key == fields[index].key { continue }
            if !first { output.append(UInt8(ascii: ",")) }
            first = false
            appendString(fields[index].key, to: &output)
            output.append(UInt8(ascii: ":"))
            appendString(fields[index].value, to: &output)
        }
        output.append(UInt8(ascii: "}"))
        output.append(0x0A)
        return Data(output)
    }

    private static func appendString(_ value: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { bytes in
            // Most values need no escape: copied whole, they cost a copy instead of a branch and an
            // append per byte (the access log writes a line for every request).
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
