import Foundation
import JSONValue
import Templates
import Testing

/// Every shipped template in every locale loads and renders into a complete email.
@Suite struct ShippedTemplatesTests {
    private let catalog: TemplateCatalog

    init() throws {
        catalog = try TemplateCatalog.load(directory: Paths.shippedTemplates, defaultLocale: "en")
    }

    @Test func shipsLinkAndCodeTemplatesInEnglishAndGerman() {
        #expect(catalog.names == ["recovery", "recovery_code"])
        #expect(catalog.method(of: "recovery") == .link)
        #expect(catalog.method(of: "recovery_code") == .code)
        #expect(catalog.locales(of: "recovery") == ["de", "en"])
        #expect(catalog.locales(of: "recovery_code") == ["de", "en"])
    }

    @Test func everyTemplateRendersInEveryLocale() throws {
        var rendered = 0
        for name in catalog.names {
            let method = try #require(catalog.method(of: name))
            for locale in catalog.locales(of: name) {
                let data = Sample.data(
                    link: method == .link ? Sample.link : "https://auth.example.com/recovery/code?flow=1&x=2",
                    code: method == .code ? Sample.code : nil,
                    to: "o'brien+<test>@example.com"
                )
                let email = try catalog.render(name, locale: locale, method: method, data: data)
                #expect(email.locale == locale)
                #expect(!email.subject.isEmpty && !email.subject.contains("{{"))
                #expect(!email.text.contains("{{") && !email.text.contains("}}"))
                #expect(email.text.contains(method == .link ? Sample.link : Sample.code))
                #expect(email.text.contains("o'brien+<test>@example.com"))
                #expect(email.text.contains("60"))
                let html = try #require(email.html)
                #expect(html.hasPrefix("<!DOCTYPE html>"))
                #expect(html.contains("<html lang=\"\(locale)\">"))
                #expect(html.contains("o&#39;brien+&lt;test&gt;@example.com"))
                #expect(!html.contains("<test>"))
                #expect(!html.contains("{{") && !html.contains("}}"))
                // No remote assets: nothing is fetched when the email is opened.
                #expect(!html.contains("<img") && !html.contains("<link") && !html.contains("url("))
                #expect(!html.contains("src="))
                #expect(html.contains("role=\"presentation\""))
                let escapedLink = (data.recoveryURL ?? "").replacingOccurrences(of: "&", with: "&amp;")
                #expect(html.contains("href=\"\(escapedLink)\""))
                if method == .code {
                    #expect(html.contains(">\(Sample.code)<"))
                }
                rendered += 1
            }
        }
        #expect(rendered == 4)
    }

    @Test func codeTemplateWithoutAFormLinkLeavesThatPartOut() throws {
        for locale in ["en", "de"] {
            let email = try catalog.render(
                "recovery_code",
                locale: locale,
                method: .code,
                data: Sample.data(link: nil, code: Sample.code)
            )
            #expect(!email.text.contains("http"))
            #expect(email.html?.contains("href=") == false)
            #expect(email.text.contains("    \(Sample.code)\n"))
        }
    }

    @Test func germanFallbackForSwissGerman() throws {
        let email = try catalog.render("recovery", locale: "de-CH", method: .link, data: Sample.data())
        #expect(email.locale == "de")
        #expect(email.subject == "Zugriff auf Ihr Konto wiederherstellen")
    }
}

@Suite struct IdentityUseTests {
    @Test func theShippedTemplatesPrintNoIdentity() throws {
        let catalog = try TemplateCatalog.load(directory: Paths.shippedTemplates, defaultLocale: "en")
        #expect(!catalog.usesIdentity("recovery"))
        #expect(!catalog.usesIdentity("recovery_code"))
        #expect(catalog.usesIdentity("no-such-template"))
    }
}
