import Foundation
import JSONValue
import Mustache
import Testing

@testable import Templates

@Suite struct RenderTests {
    /// A catalog with `recovery` in en, de and de-CH, plus a code template, written for each test.
    private func withCatalog(_ body: (TemplateCatalog, TempDirectory) throws -> Void) throws {
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        for locale in ["en", "de", "de-CH"] {
            try directory.writeLinkTemplate(
                locale: locale,
                html: "<p lang=\"{{Locale}}\">{{To}} {{TransientPayload.note}}</p><a href=\"{{RecoveryURL}}\">go</a>"
            )
        }
        try directory.write("recovery_code/en/subject.mustache", "Code for {{To}}\n")
        try directory.write(
            "recovery_code/en/body.txt.mustache",
            "Code: {{RecoveryCode}} for {{To}} {{TransientPayload.note}}\n"
        )
        try body(try TemplateCatalog.load(directory: directory.path, defaultLocale: "en"), directory)
    }

    @Test(arguments: [
        ("de-CH", "de-CH"), ("de-ch", "de-CH"), ("de-AT", "de"), ("de", "de"), ("fr-CA", "en"), ("en-GB", "en"),
        ("de-CH-1996", "de-CH"),
    ])
    func localeFallsBackAlongTheTag(requested: String, expected: String) throws {
        try withCatalog { catalog, _ throws in
            let email = try catalog.render("recovery", locale: requested, method: .link, data: Sample.data())
            #expect(email.locale == expected)
            #expect(email.text.hasPrefix("[\(expected)] Open \(Sample.link) within 60 min."))
            #expect(email.html?.contains("lang=\"\(expected)\"") == true)
            #expect(try catalog.validate(name: "recovery", locale: requested, method: .link) == expected)
        }
    }

    @Test func noLocaleMeansTheDefault() throws {
        try withCatalog { catalog, _ throws in
            #expect(try catalog.render("recovery", locale: nil, method: .link, data: Sample.data()).locale == "en")
        }
    }

    @Test func htmlIsEscapedAndTextIsNot() throws {
        try withCatalog { catalog, _ throws in
            let hostile = "<script>alert('x')</script> & \"quoted\""
            let data = Sample.data(to: "a&b@example.com", payload: .object(["note": .string(hostile)]))
            let email = try catalog.render("recovery", locale: "en", method: .link, data: data)
            let html = try #require(email.html)
            #expect(html.contains("a&amp;b@example.com"))
            #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"))
            #expect(!html.contains("<script>"))
            // The link's `&` is escaped inside the attribute, so a mail client reads back the exact URL.
            #expect(
                html.contains(
                    "href=\"https://auth.example.com/self-service/recovery?flow=3f1c&amp;token=Zx9Ab&amp;x=1\""
                )
            )

            let code = try catalog.render(
                "recovery_code",
                locale: "en",
                method: .code,
                data: Sample.data(
                    link: nil,
                    code: Sample.code,
                    to: "a&b@example.com",
                    payload: .object(["note": .string(hostile)])
                )
            )
            #expect(code.text == "Code: 482913 for a&b@example.com \(hostile)\n")
            #expect(code.html == nil)
        }
    }

    /// A quote, `<` or `&` followed by a combining mark is one Character to Swift, but the browser
    /// still reads its ASCII byte: it is escaped all the same (swift-mustache's own escaping compares
    /// Characters and let `"\u{301}` close the attribute it stood in).
    @Test func htmlEscapesTheBytesACombiningMarkFollows() throws {
        try withCatalog { catalog, _ throws in
            let hostile = "\"\u{301} onmouseover=alert(1) x=\"\u{301} <\u{338}b>&\u{301}amp;'\u{301}"
            let data = Sample.data(payload: .object(["note": .string(hostile)]))
            let html = try #require(try catalog.render("recovery", locale: "en", method: .link, data: data).html)
            let escaped =
                "&quot;\u{301} onmouseover=alert(1) x=&quot;\u{301} &lt;\u{338}b&gt;&amp;\u{301}amp;&#39;\u{301}"
            #expect(html.contains(escaped))
            #expect(html.utf8.filter { $0 == UInt8(ascii: "\"") }.count == 4)
        }
    }

    /// Without combining marks, the byte-level escaping writes what swift-mustache's own does.
    @Test func htmlEscapingMatchesMustachesWithoutCombiningMarks() throws {
        let alphabet = Array("ab <>&\"'/=;#\n\té€😀\u{0}")
        var generator = SystemRandomNumberGenerator()
        let theirs = try MustacheTemplate(string: "{{x}}")
        let ours = try MustacheTemplate(string: HTMLEscaping.pragma + "{{x}}")
        for _ in 0..<2_000 {
            let text = String((0..<Int.random(in: 0...24, using: &generator)).map { _ in alphabet.randomElement()! })
            #expect(ours.render(["x": text]) == theirs.render(["x": text]), "\(text.debugDescription)")
        }
    }

    @Test func subjectIsOneLineWhateverTheData() throws {
        try withCatalog { catalog, _ throws in
            let to = "victim@example.com\r\nBcc: attacker@example.com\n\u{2028}X-Evil: 1\u{85}\t end"
            let email = try catalog.render(
                "recovery_code",
                locale: nil,
                method: .code,
                data: Sample.data(
                    link: nil,
                    code: Sample.code,
                    to: to
                )
            )
            #expect(email.subject == "Code for victim@example.com Bcc: attacker@example.com X-Evil: 1 end")
            #expect(!email.subject.contains(where: { $0.isNewline }))
        }
    }

    /// An ASCII scalar is decided by its value: the same answer as the Unicode properties give.
    @Test func aSubjectSeparatesASCIIAsTheUnicodePropertiesSay() {
        for value in UInt8(0)...0x7F {
            let scalar = Unicode.Scalar(value)
            let category = scalar.properties.generalCategory
            let byProperties =
                category == .control || category == .lineSeparator || category == .paragraphSeparator
                || scalar.properties.isWhitespace
            #expect(SubjectLine.separates(scalar) == byProperties, "U+\(String(value, radix: 16))")
        }
        #expect(SubjectLine.clean("  Hi\u{7F}\u{2028}there\r\n ünd\u{A0}\u{85}so ") == "Hi there ünd so")
    }

    @Test func methodMustMatchTheTemplate() throws {
        try withCatalog { catalog, _ throws in
            let wrong = templateError { () throws(TemplateError) in
                try catalog.render("recovery", locale: "en", method: .code, data: Sample.data(code: Sample.code))
            }
            #expect(wrong?.kind == .methodMismatch)
            #expect(wrong?.message.contains("serves the link method, not code") == true)
            let noCode = templateError { () throws(TemplateError) in
                try catalog.render("recovery_code", locale: "en", method: .code, data: Sample.data())
            }
            #expect(noCode?.kind == .methodMismatch)
            #expect(
                templateError { () throws(TemplateError) in
                    try catalog.validate(name: "recovery_code", locale: nil, method: .link)
                }?.kind == .methodMismatch
            )
        }
    }

    @Test(arguments: [
        "../recovery", "/etc/passwd", "recovery/../../x", "Recovery", "", "rec overy", "..", "recovery\0",
    ])
    func templateNamesThatCouldBePathsAreRefused(name: String) throws {
        try withCatalog { catalog, _ throws in
            let error = templateError { () throws(TemplateError) in
                try catalog.render(name, locale: "en", method: .link, data: Sample.data())
            }
            #expect(error?.kind == .invalidName)
        }
    }

    @Test(arguments: ["../../../etc/passwd", "de/../../x", "/tmp", "de_CH", "de-CH/../en", "..", "%2e%2e"])
    func localesThatCouldBePathsAreRefused(locale: String) throws {
        try withCatalog { catalog, _ throws in
            let error = templateError { () throws(TemplateError) in
                try catalog.render("recovery", locale: locale, method: .link, data: Sample.data())
            }
            #expect(error?.kind == .invalidLocale)
        }
    }

    @Test func renderingReadsNothingFromDiskAfterLoad() throws {
        try withCatalog { catalog, directory throws in
            try FileManager.default.removeItem(atPath: directory.path + "/recovery")
            #expect(try catalog.render("recovery", locale: "de", method: .link, data: Sample.data()).locale == "de")
            #expect(
                templateError { () throws(TemplateError) in
                    try catalog.validate(name: "password_reset", locale: nil, method: .link)
                }?.kind == .unknownTemplate
            )
        }
    }

    @Test func secretsStayOutOfDescriptionsAndErrors() throws {
        try withCatalog { catalog, _ throws in
            let data = Sample.data(payload: .object(["note": .string("n")]))
            let email = try catalog.render("recovery", locale: "en", method: .link, data: data)
            for text in [email.description, String(describing: email), String(reflecting: email), "\(data)"] {
                #expect(!text.contains("token=Zx9Ab"))
                #expect(!text.contains("jane@"))
            }
            var dumped = ""
            dump(email, to: &dumped)
            dump(data, to: &dumped)
            #expect(!dumped.contains("Zx9Ab"))
            let error = templateError { () throws(TemplateError) in
                try catalog.render("recovery", locale: "en", method: .code, data: Sample.data(code: Sample.code))
            }
            #expect(error?.description.contains(Sample.code) == false)
        }
    }

    @Test func linkHiddenForThisIdentityFailsTheRenderNotTheEmail() throws {
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        try directory.write("recovery/en/subject.mustache", "Recover\n")
        try directory.write(
            "recovery/en/body.txt.mustache",
            "{{^Identity.traits.blocked}}{{RecoveryURL}}{{/Identity.traits.blocked}}\n"
        )
        let catalog = try TemplateCatalog.load(directory: directory.path, defaultLocale: "en")
        let blocked = Sample.data(traits: .object(["blocked": .bool(true)]))
        let error = templateError { () throws(TemplateError) in
            try catalog.render("recovery", locale: nil, method: .link, data: blocked)
        }
        #expect(error?.kind == .missingVariable)
        #expect(error?.description.contains("token=") == false)
        #expect(
            try catalog.render("recovery", locale: nil, method: .link, data: Sample.data()).text == Sample.link + "\n"
        )
    }

    @Test func jsonValuesRenderLikeKratos() throws {
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        try directory.write("recovery/en/subject.mustache", "Recover\n")
        try directory.write(
            "recovery/en/body.txt.mustache",
            """
            {{RecoveryURL}} n={{TransientPayload.n}} f={{TransientPayload.f}} b={{TransientPayload.b}}
            {{#TransientPayload.items}}[{{.}}]{{/TransientPayload.items}}{{^TransientPayload.none}}none{{/TransientPayload.none}}
            {{#TransientPayload.empty}}empty string is true{{/TransientPayload.empty}}{{#TransientPayload.zero}}zero is true{{/TransientPayload.zero}}
            {{Identity.traits.name.first}} {{uppercased(Identity.traits.name.last)}} {{Identity.id}}

            """
        )
        let catalog = try TemplateCatalog.load(directory: directory.path, defaultLocale: "en")
        let payload: JSONValue = .object([
            "n": .number(42), "f": .number(2.5), "b": .bool(true), "items": .array([.string("a"), .number(1)]),
            "none": .null, "empty": .string(""), "zero": .number(0),
        ])
        let traits: JSONValue = .object(["name": .object(["first": .string("Jane"), "last": .string("Doe")])])
        let text = try catalog.render(
            "recovery",
            locale: nil,
            method: .link,
            data: Sample.data(traits: traits, payload: payload)
        ).text
        #expect(
            text == """
                \(Sample.link) n=42 f=2.5 b=true
                [a][1]none

                Jane DOE 9f5c1a2e-7d4b-4c1e-9a6f-0b2d3c4e5f60

                """
        )
    }
}
