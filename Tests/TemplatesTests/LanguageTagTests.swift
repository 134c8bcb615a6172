import Templates
import Testing

@Suite struct LanguageTagTests {
    @Test(arguments: [
        ("de-CH", "de-CH", ["de-CH", "de"]),
        ("DE-ch", "de-CH", ["de-CH", "de"]),
        ("zh-hant-tw", "zh-Hant-TW", ["zh-Hant-TW", "zh-Hant", "zh"]),
        ("de-CH-1996", "de-CH-1996", ["de-CH-1996", "de-CH", "de"]),
        ("en-US-u-ca-gregory", "en-US-u-ca-gregory", ["en-US-u-ca-gregory", "en-US-u-ca", "en-US", "en"]),
        ("es-419", "es-419", ["es-419", "es"]),
        ("en", "en", ["en"]),
    ])
    func wellFormedTagsAreCanonicalisedWithFallbacks(input: String, canonical: String, chain: [String]) throws {
        let tag = try LanguageTag(input)
        #expect(tag.description == canonical)
        #expect(tag.fallbackChain == chain)
    }

    @Test(arguments: [
        "", "../en", "en/../../etc", "/etc/passwd", "de_CH", "e", "englishlanguage", "de-CH-", "-de", "de--CH",
        "en-a", "en-x", "x-private", "de-CH-1996-1996", "en-u-ca-u-nu", "en\u{0}", "en CH",
        String(repeating: "a-", count: 40) + "a",
    ])
    func malformedTagsAreRefused(input: String) {
        let error = templateError { () throws(TemplateError) in try LanguageTag(input) }
        #expect(error?.kind == .invalidLocale)
    }

    @Test func underscoreGetsAHint() {
        let error = templateError { () throws(TemplateError) in try LanguageTag("de_CH") }
        #expect(error?.message.contains("not `_`") == true)
    }
}
