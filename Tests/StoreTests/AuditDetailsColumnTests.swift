import Foundation
import Store
import Testing

/// An audit event's `details` column: written by hand, the text Foundation's `JSONEncoder` wrote
/// (rows already stored keep it, and both stores write the same), read back as it was.
@Suite struct AuditDetailsColumnTests {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Scalars where escapes and sort orders differ: controls, quote, backslash, slash, DEL,
    /// upper and lower case, digits, accents, a combining mark, U+2028, a full-width letter, emoji.
    static let alphabet: [Unicode.Scalar] = Array(
        "\u{0}\u{1}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F} \"\\/aAzZ_09-.:é\u{301}\u{7F}\u{80}\u{2028}Ａ😀".unicodeScalars
    )

    static func randomText(_ generator: inout some RandomNumberGenerator, maxLength: Int) -> String {
        var text = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...maxLength, using: &generator) {
            text.append(alphabet.randomElement(using: &generator)!)
        }
        return String(text)
    }

    @Test func theTextIsJSONEncodersWithSortedKeys() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var details: [String: String] = [:]
            for _ in 0..<Int.random(in: 0...6, using: &generator) {
                details[Self.randomText(&generator, maxLength: 4)] = Self.randomText(&generator, maxLength: 12)
            }
            let expected = String(decoding: try Self.encoder.encode(details), as: UTF8.self)
            #expect(AuditDetailsColumn.text(details) == expected, "\(details)")
            #expect(try AuditDetailsColumn.details(AuditDetailsColumn.text(details)) == details)
        }
        #expect(AuditDetailsColumn.text([:]) == "{}")
        #expect(
            AuditDetailsColumn.text(["reason": "a/b \"c\"\n", "A": "é", "a10": "", "a9": "\u{1}"])
                == #"{"A":"é","a10":"","a9":"\u0001","reason":"a/b \"c\"\n"}"#
        )
    }

    @Test(arguments: ["", "[]", #""text""#, #"{"a":1}"#, #"{"a":null}"#, #"{"a":{"b":"c"}}"#, #"{"a":"b""#])
    func anythingButAnObjectOfStringsIsACorruptRow(text: String) {
        #expect(throws: StoreError.corruptRow(table: "audit_events", column: "details")) {
            try AuditDetailsColumn.details(text)
        }
    }
}
