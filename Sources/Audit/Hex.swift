/// Lower-case hexadecimal text of bytes: digests, HMACs and fresh API keys are written this way.
public enum Hex {
    /// Two lower-case digits per byte.
    ///
    /// Inlinable: a generic function is otherwise not specialized in the modules that call it, and
    /// iterating a digest through witness calls cost an accepted request's hash 18,000 instructions.
    @inlinable
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digit(byte >> 4))
            text.append(digit(byte & 0x0F))
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The lower-case digit of `nibble` (0…15).
    @usableFromInline
    static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
    }

    /// The bytes `text` writes as pairs of hex digits, or nil when it is anything else (an odd count,
    /// another character, or an upper-case digit where `allowingUpperCase` is false).
    public static func decode(_ text: String, allowingUpperCase: Bool = true) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for pair in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[pair], allowingUpperCase),
                let low = value(digits[pair + 1], allowingUpperCase)
            else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func value(_ digit: UInt8, _ allowingUpperCase: Bool) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F") where allowingUpperCase: digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
