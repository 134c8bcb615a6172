import CourierInbox
import JSONValue
import Templates
import Testing

/// The locale comes from the identity, then the browser's Accept-Language, then the default.
@Suite struct CourierLocalePolicyTests {
    let policy = try! CourierLocalePolicy()
    let available = ["de", "en"]

    @Test(arguments: [
        ("recovery_valid", "de"),  // identity.traits.locale: de
        ("recovery_code_valid", "de"),  // identity.metadata_public.locale: de-AT → de
        ("verification_valid", "de"),  // identity.metadata_public.locale: de-CH → de
        ("verification_code_valid", "de"),  // identity.traits.locale: de-DE → de
        ("login_code_valid", "de"),  // no locale in the identity; Accept-Language: de-DE,de;q=0.9,en;q=0.8
        ("registration_code_valid", "de"),  // transient_payload.locale: de
        ("recovery_code_invalid", "de"),  // transient_payload.locale: de
        ("recovery_invalid", "en"),  // nothing: the default
    ])
    func fixturesResolveAsTheirDataSays(type: String, expected: String) throws {
        let message = try Fixtures.message("ctx-v26.2", type)
        #expect(policy.resolve(message, available: available, defaultLocale: "en") == expected)
    }

    @Test func theFirstPathThatExistsInTheCatalogWins() throws {
        let base = try Fixtures.document("ctx-v26.2", "login_code_valid")
        // fr is not in the catalog: the next preference (Accept-Language's de) is used.
        let french = base.setting(["template_data", "identity", "traits", "locale"], to: .string("fr-FR"))
        #expect(
            policy.resolve(try KratosCourierMessage(document: french), available: available, defaultLocale: "en")
                == "de"
        )
        // en-GB from the identity beats the browser's de.
        let british = base.setting(["template_data", "identity", "traits", "locale"], to: .string("en-GB"))
        #expect(
            policy.resolve(try KratosCourierMessage(document: british), available: available, defaultLocale: "en")
                == "en"
        )
        // Not a language tag: skipped.
        let bad = base.setting(["template_data", "identity", "traits", "locale"], to: .string("../etc"))
        #expect(
            policy.preferences(for: try KratosCourierMessage(document: bad)).map(\.description) == [
                "de-DE", "de", "en",
            ]
        )
    }

    @Test func configuredPathsReplaceTheDefaults() throws {
        let custom = try CourierLocalePolicy(paths: ["identity.traits.language"])
        let document = try Fixtures.document("ctx-v26.2", "recovery_valid")
            .setting(["template_data", "identity", "traits", "language"], to: .string("en-US"))
        let message = try KratosCourierMessage(document: document)
        #expect(custom.preferences(for: message).map(\.description) == ["en-US"])
        #expect(policy.preferences(for: message).map(\.description) == ["de"])
    }

    @Test func badPathsAreRefused() {
        for path in ["", "identity..locale", ".locale", "identity.traits.", "identity/traits", "a b"] {
            #expect(throws: CourierLocalePathError(path: path)) { try CourierLocalePolicy(paths: [path]) }
        }
    }

    @Test func acceptLanguageIsOrderedByQuality() {
        let tags = AcceptLanguage.parse(["fr;q=0.5, de-CH , en;q=0.8", "*;q=0.9, it;q=0, xx_YY, es;q=1.5, pt;q=0.500"])
        #expect(tags.map(\.description) == ["de-CH", "en", "fr", "pt"])
        #expect(AcceptLanguage.parse(["de;Q=1.000, en;q=1."]).map(\.description) == ["de", "en"])
        #expect(AcceptLanguage.parse([]).isEmpty && AcceptLanguage.parse([""]).isEmpty)
        // Equal quality keeps the order given.
        #expect(AcceptLanguage.parse(["nl;q=0.7, sv;q=0.7, da;q=0.7"]).map(\.description) == ["nl", "sv", "da"])
    }

    @Test func headerNameIsCaseInsensitive() throws {
        let document = try Fixtures.document("ctx-v26.2", "recovery_invalid")
            .setting(["request_headers"], to: .object(["accept-language": .array([.string("de")])]))
        #expect(
            policy.resolve(try KratosCourierMessage(document: document), available: available, defaultLocale: "en")
                == "de"
        )
    }
}
