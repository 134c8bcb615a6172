import Foundation
import JSONValue
import Templates
import Testing

/// The catalog holds one template per Kratos courier template type next to the recovery templates, checks
/// each for the type's secret, and renders Kratos's `template_data` with Kratos's variable names.
@Suite struct CourierTemplateTests {
    private let catalog: TemplateCatalog

    init() throws {
        catalog = try TemplateCatalog.load(directory: Paths.shippedTemplates, defaultLocale: "en")
    }

    /// `template_data` of the v26.2 fixture of `type` (Tests/Fixtures/kratos-courier).
    private func templateData(_ type: CourierTemplateType) throws -> JSONValue {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/kratos-courier/ctx-v26.2/\(type.rawValue).json")
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: file))
        return try #require(document["template_data"])
    }

    @Test func shipsEveryTypeInEnglishAndGermanBesideTheRecoveryTemplates() {
        #expect(catalog.courierTypes == CourierTemplateType.allCases.sorted { $0.rawValue < $1.rawValue })
        for type in CourierTemplateType.allCases {
            #expect(catalog.hasTemplate(for: type))
            #expect(catalog.locales(of: type.rawValue) == ["de", "en"])
        }
        // The recovery templates of the admin path are the only `names`; a courier type is not one.
        #expect(catalog.names == ["recovery", "recovery_code"])
        #expect(catalog.method(of: "recovery_valid") == nil)
        #expect(throws: TemplateError.self) { try catalog.validate(name: "recovery_valid", locale: nil, method: .link) }
    }

    @Test func everyTypeRendersWithItsSecretInEveryLocale() throws {
        for type in CourierTemplateType.allCases {
            let data = try templateData(type)
            for locale in ["en", "de"] {
                let email = try #require(try catalog.renderCourier(type, locale: locale, templateData: data))
                #expect(email.locale == locale)
                #expect(!email.subject.isEmpty && !email.subject.contains("{{"))
                #expect(email.text.contains("lena.schmidt@example.com"), "\(type) \(locale)")
                let html = try #require(email.html)
                #expect(html.contains("lang=\"\(locale)\""))
                for key in type.secretKeys {
                    let secret = try #require(data[key]?.stringValue)
                    #expect(email.text.contains(secret), "\(type) \(locale) text lacks \(key)")
                    // The HTML body shows the secret HTML-escaped (`&` of a link's query as `&amp;`).
                    let escaped = secret.replacingOccurrences(of: "&", with: "&amp;")
                    #expect(html.contains(escaped), "\(type) \(locale) html lacks \(key)")
                }
                if type.secretKey == nil { #expect(!email.text.contains("{{")) }
                if case .number(let minutes)? = data["expires_in_minutes"] {
                    #expect(email.text.contains(" \(Int(minutes)) "), "\(type) \(locale) lacks the expiry")
                }
            }
        }
    }

    @Test func germanAndFallbackLocales() throws {
        let data = try templateData(.loginCodeValid)
        let german = try #require(try catalog.renderCourier(.loginCodeValid, locale: "de-AT", templateData: data))
        #expect(german.locale == "de" && german.subject == "Ihr Anmeldecode")
        let french = try #require(try catalog.renderCourier(.loginCodeValid, locale: "fr", templateData: data))
        #expect(french.locale == "en" && french.subject == "Your sign-in code")
        #expect(german.text.contains("15 Minuten") && french.text.contains("15 minutes"))
    }

    @Test func dataIsEscapedInHTMLOnly() throws {
        let data = try templateData(.recoveryInvalid).setting("to", .string("o'brien+<b>x</b>@example.com"))
        let email = try #require(try catalog.renderCourier(.recoveryInvalid, locale: "en", templateData: data))
        #expect(email.text.contains("o'brien+<b>x</b>@example.com"))
        let html = try #require(email.html)
        #expect(!html.contains("<b>x</b>") && html.contains("&lt;b&gt;x&lt;/b&gt;"))
    }

    @Test func withoutExpiryTheSentenceIsLeftOut() throws {
        let data = try templateData(.recoveryValid).setting("expires_in_minutes", nil)
        let email = try #require(try catalog.renderCourier(.recoveryValid, locale: "en", templateData: data))
        #expect(!email.text.contains("expires in"))
        #expect(email.text.contains("token=Qm9zc2Vz"))
    }

    @Test func aMessageWithoutItsSecretIsRefused() throws {
        let data = try templateData(.recoveryCodeValid).setting("recovery_code", nil)
        #expect(throws: TemplateError.self) {
            try catalog.renderCourier(.recoveryCodeValid, locale: "en", templateData: data)
        }
    }

    @Test func aTypeWithoutTemplateRendersNothing() throws {
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        try directory.writeLinkTemplate()
        let small = try TemplateCatalog.load(directory: directory.path, defaultLocale: "en")
        #expect(small.courierTypes.isEmpty && !small.hasTemplate(for: .recoveryValid))
        #expect(
            try small.renderCourier(.recoveryValid, locale: "en", templateData: templateData(.recoveryValid)) == nil
        )
    }

    @Test func aCourierTemplateMustOutputItsSecret() throws {
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        try directory.writeLinkTemplate()
        try directory.write("verification_code_valid/en/subject.mustache", "Confirm\n")
        // The link embeds the code, but the code itself is what the user types: the text must show it.
        try directory.write("verification_code_valid/en/body.txt.mustache", "Open {{VerificationURL}}\n")
        let error = try #require(throws: TemplateError.self) {
            try TemplateCatalog.load(directory: directory.path, defaultLocale: "en")
        }
        #expect(error.kind == .missingVariable && error.message.contains("VerificationCode"))
        #expect(error.file?.hasSuffix("verification_code_valid/en/body.txt.mustache") == true)

        try directory.write("verification_code_valid/en/body.txt.mustache", "Code {{VerificationCode}}\n")
        try directory.write("verification_code_valid/en/body.html.mustache", "<p>{{VerificationURL}}</p>\n")
        let htmlError = try #require(throws: TemplateError.self) {
            try TemplateCatalog.load(directory: directory.path, defaultLocale: "en")
        }
        #expect(htmlError.file?.hasSuffix("body.html.mustache") == true)
    }

    @Test func anInvalidTypeNeedsNoSecretButASubject() throws {
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        try directory.writeLinkTemplate()
        try directory.write("recovery_invalid/en/subject.mustache", "{{#Nothing}}x{{/Nothing}}\n")
        try directory.write("recovery_invalid/en/body.txt.mustache", "No account for {{To}}.\n")
        let error = try #require(throws: TemplateError.self) {
            try TemplateCatalog.load(directory: directory.path, defaultLocale: "en")
        }
        #expect(error.message.contains("empty subject"))
        try directory.write("recovery_invalid/en/subject.mustache", "Attempt\n")
        #expect(
            try TemplateCatalog.load(directory: directory.path, defaultLocale: "en").courierTypes == [.recoveryInvalid]
        )
    }

    @Test func variableNamesAreKratossGoFieldNames() {
        #expect(CourierTemplateType.recoveryValid.secretVariable == "RecoveryURL")
        #expect(CourierTemplateType.verificationCodeValid.secretVariable == "VerificationCode")
        #expect(CourierTemplateType.registrationCodeValid.secretVariable == "RegistrationCode")
        #expect(CourierTemplateType.loginCodeValid.secretVariable == "LoginCode")
        #expect(CourierTemplateType.recoveryInvalid.secretVariable == nil)
        #expect(CourierTemplateType.variableName("transient_payload") == "TransientPayload")
        #expect(CourierTemplateType.variableName("no_such_member") == nil)
    }
}

extension JSONValue {
    /// A copy of this object with member `key` set to `value` (`nil` removes it).
    fileprivate func setting(_ key: String, _ value: JSONValue?) -> JSONValue {
        guard case .object(var members) = self else { return self }
        members[key] = value
        return .object(members)
    }
}
