import Foundation

/// A UUID's text, written and read without Foundation's formatter.
///
/// The gateway writes every id as lowercase `8-4-4-4-12` hex (API answers, logs, audit events,
/// SQLite cells) and reads ids back from rows, paths and bodies: some forty times per email.
/// Foundation's `uuidString` formats through `snprintf` and upper case, which then costs a
/// `lowercased()` on top; here both directions are a loop over sixteen bytes.
extension UUID {
    /// The canonical lowercase text, `0c5a1b2e-…`: what `uuidString.lowercased()` gives.
    public var lowercasedString: String {
        String(unsafeUninitializedCapacity: 36) { buffer in
            UUIDText.write(self, to: buffer)
            return 36
        }
    }

    /// Appends the 36 octets of ``lowercasedString`` to `out`, without making the String (the
    /// audit log's canonical encoding writes three ids per event this way).
    public func appendLowercased(to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 36) { buffer in
            UUIDText.write(self, to: buffer)
            out.append(contentsOf: buffer)
        }
    }

    /// Reads `8-4-4-4-12` hex digits in either case, as `UUID(uuidString:)` does; `nil` for anything
    /// else.
    public init?(text: String) {
        // A String, not `some StringProtocol`: a generic parameter is not specialized across the
        // module's boundary, and its UTF-8 view then costs a witness call per byte (the dozen ids
        // an email parses cost 3 % of its instructions that way). Pass a Substring as `String(_:)`.
        guard text.utf8.count == 36 else { return nil }
        var text = text
        // Written in place into the sixteen bytes: no buffer is allocated for a parse, and one runs
        // for every id a stored row or a request holds.
        var parsed: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let complete = text.withUTF8 { utf8 in
            withUnsafeMutableBytes(of: &parsed) { bytes in
                var digits = 0
                for (index, byte) in utf8.enumerated() {
                    if index == 8 || index == 13 || index == 18 || index == 23 {
                        guard byte == UInt8(ascii: "-") else { return false }
                        continue
                    }
                    guard let value = UUIDText.value(of: byte) else { return false }
                    bytes[digits / 2] |= digits % 2 == 0 ? value << 4 : value
                    digits += 1
                }
                return true
            }
        }
        guard complete else { return nil }
        self.init(uuid: parsed)
    }
}

/// The hex digits of ``Foundation/UUID/lowercasedString`` and their values.
enum UUIDText {
    /// Writes `id`'s 36 octets of lowercase text to the start of `buffer`.
    static func write(_ id: UUID, to buffer: UnsafeMutableBufferPointer<UInt8>) {
        precondition(buffer.count >= 36)
        withUnsafeBytes(of: id.uuid) { bytes in
            var at = 0
            for index in 0..<16 {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    buffer[at] = UInt8(ascii: "-")
                    at += 1
                }
                buffer[at] = digit(bytes[index] >> 4)
                buffer[at + 1] = digit(bytes[index] & 0x0F)
                at += 2
            }
        }
    }

    /// The lowercase hex digit of `nibble` (0…15).
    private static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
    }

    static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
