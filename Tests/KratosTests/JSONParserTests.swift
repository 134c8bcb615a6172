import Foundation
import JSONValue
import Testing

/// `JSONValue(parsing:)` takes what `JSONDecoder` takes, to the same value, and refuses what it refuses.
@Suite struct JSONParserTests {
    static let documents = [
        #"{"identity_id":"a251ebc2-880c-4f76-a8f3-38e6940eab0e","reason":"e2e benchmark"}"#,
        #" { "a" : [ 1 , -2.5e3 , 0.125 , true , false , null , { } , [ ] ] } "#,
        #"{"s":"quote \" backslash \\ slash \/ \b\f\n\r\t","u":"\u00e9\u20AC\ud83d\ude00","raw":"ünï 😀"}"#,
        #"{"dup":1,"dup":2}"#, "[1,]", #"{"a":1 , }"#,
        #""just a string""#, "42", "-0", "1E+2", "true", "null", "[[[[]]]]",
        #"{"traits":{"email":"jane@example.com","name":{"first":"J"}},"recovery_addresses":[{"value":"j@e.c"}]}"#,
        String(repeating: "[", count: 300) + String(repeating: "]", count: 300),
    ]

    static let refused = [
        "", " ", "{", "}", "[,]", "[1,,]", "{,}", "{\"a\" 1}", "{a:1}", "'x'", "01", "1.", ".5", "-", "1e", "+1",
        "tru", "nul", "\"unterminated", "\"tab\there\"", "\"\\x\"", "\"\\u12\"", "\"\\ud83d\"", "\"\\ude00\"",
        "\"\\ud83d\\u0041\"", "1 2", "{} x", "1e400", "NaN", "[1] ]",
        String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
    ]

    @Test(arguments: documents) func parsesAsJSONDecoderDecodes(_ text: String) throws {
        let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(try JSONValue(parsing: Array(text.utf8)) == decoded)
    }

    @Test(arguments: refused) func refusesWhatJSONDecoderRefuses(_ text: String) {
        #expect(throws: (any Error).self) { try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: Array(text.utf8)) }
    }

    @Test func refusesInvalidUTF8() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        #expect(throws: (any Error).self) { try JSONDecoder().decode(JSONValue.self, from: Data(bytes)) }
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: bytes) }
    }
}
