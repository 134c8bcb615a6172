import Testing

@testable import Templates

/// The check that a rendered text body carries the link or code looks for its octets.
@Suite struct SecretSearchTests {
    @Test func findsTheOctetsOfThePart() {
        let link = "https://id.example.com/self-service/recovery?flow=9f5c&token=abc"
        #expect(TemplateCatalog.contains("Reset: " + link + "\n", link))
        #expect(TemplateCatalog.contains(link, link))
        #expect(TemplateCatalog.contains("123456", "123456"))
        #expect(TemplateCatalog.contains("anything", ""))
        #expect(TemplateCatalog.contains("", ""))
        #expect(TemplateCatalog.contains("Grüße, é", "é"))
    }

    @Test func refusesWhatIsNotThere() {
        #expect(!TemplateCatalog.contains("", "1"))
        #expect(!TemplateCatalog.contains("12345", "123456"))
        #expect(!TemplateCatalog.contains("123 456", "123456"))
        #expect(!TemplateCatalog.contains("abcabd", "abcabe"))
        // Canonically equivalent is not the same octets: the email carries what was rendered.
        #expect(!TemplateCatalog.contains("e\u{301}", "\u{E9}"))
    }
}
