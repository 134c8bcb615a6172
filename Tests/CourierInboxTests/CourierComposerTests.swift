import CourierInbox
import Foundation
import JSONValue
import Templates
import Testing

/// A courier message becomes the gateway's localized email, or Kratos's own rendering when there is no template.
@Suite struct CourierComposerTests {
    static let shippedTemplates = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("templates").path

    let composer = CourierComposer(
        catalog: try! TemplateCatalog.load(directory: shippedTemplates, defaultLocale: "en"),
        localePolicy: try! CourierLocalePolicy()
    )

    @Test func everyV26_2TypeGetsTheGatewayTemplateInTheLanguageItsDataAsksFor() throws {
        // The *_invalid fixtures without a locale in their data and without request headers: the default.
        let english: Set = ["recovery_invalid", "verification_invalid", "verification_code_invalid"]
        for type in try Fixtures.types(in: "ctx-v26.2") {
            let message = try Fixtures.message("ctx-v26.2", type)
            let email = try composer.compose(message)
            #expect(email.source == .gatewayTemplate)
            #expect(email.contentLanguage == (english.contains(type) ? "en" : "de"), "\(type)")
            #expect(email.subject != message.subject)
            for secret in message.secrets { #expect(email.text.contains(secret)) }
        }
        let german = try composer.compose(try Fixtures.message("ctx-v26.2", "recovery_code_valid"))
        #expect(german.subject == "Ihr Code zur Wiederherstellung des Kontos")
        #expect(german.text.contains("731904") && german.text.contains("15 Minuten"))
    }

    @Test func flatShapeUsesTheTemplateWhenItCarriesTheSecretElseKratossBody() throws {
        let recovery = try composer.compose(try Fixtures.message("default-body-v26.2", "recovery_valid"))
        #expect(recovery.source == .gatewayTemplate && recovery.contentLanguage == "en")
        let loginMessage = try Fixtures.message("default-body-v26.2", "login_code_valid")
        let login = try composer.compose(loginMessage)
        #expect(login.source == .kratos && login.contentLanguage == nil)
        #expect(login.subject == loginMessage.subject && login.text == loginMessage.body && login.html == nil)
    }

    /// A templates directory with the shipped `recovery` template alone (a catalog needs one template).
    static func directoryWithOnlyTheRecoveryTemplate() throws -> URL {
        let directory = try Fixtures.temporaryDirectory()
        try FileManager.default.copyItem(
            atPath: shippedTemplates + "/recovery",
            toPath: directory.appendingPathComponent("recovery").path
        )
        return directory
    }

    @Test func withoutTemplatesKratossRenderingIsSent() throws {
        let directory = try Self.directoryWithOnlyTheRecoveryTemplate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bare = CourierComposer(
            catalog: try TemplateCatalog.load(directory: directory.path, defaultLocale: "en"),
            localePolicy: try CourierLocalePolicy()
        )
        let message = try Fixtures.message("ctx-v26.2", "verification_code_valid")
        let email = try bare.compose(message)
        #expect(email.source == .kratos)
        #expect(email.subject == message.subject && email.text == message.body && email.html == message.htmlBody)
        #expect(email.contentLanguage == nil)

        let noSubject = try KratosCourierMessage(
            document: Fixtures.document("ctx-v26.2", "verification_code_valid").setting(["subject"], to: .string(" \n"))
        )
        #expect(throws: CourierComposeError.self) { try bare.compose(noSubject) }
        let error = try #require(throws: CourierComposeError.self) {
            try bare.compose(
                KratosCourierMessage(
                    document: Fixtures.document("ctx-v26.2", "recovery_code_valid")
                        .setting(["body"], to: .string("Your code is in the app."))
                )
            )
        }
        guard case .message(let problem) = error else {
            Issue.record("expected a message problem, got \(error)")
            return
        }
        #expect(problem.field == "body" && problem.kind == .invalid)
        #expect(!problem.description.contains("731904"))
    }

    @Test func aTemplateThatHidesTheSecretForThisDataIsATemplateError() throws {
        let directory = try Self.directoryWithOnlyTheRecoveryTemplate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let locale = directory.appendingPathComponent("recovery_code_valid/en")
        try FileManager.default.createDirectory(at: locale, withIntermediateDirectories: true)
        try "Code\n".write(to: locale.appendingPathComponent("subject.mustache"), atomically: true, encoding: .utf8)
        try "{{^TransientPayload.hide}}{{RecoveryCode}}{{/TransientPayload.hide}}\n".write(
            to: locale.appendingPathComponent("body.txt.mustache"),
            atomically: true,
            encoding: .utf8
        )
        let composer = CourierComposer(
            catalog: try TemplateCatalog.load(directory: directory.path, defaultLocale: "en"),
            localePolicy: try CourierLocalePolicy()
        )
        let shown = try composer.compose(try Fixtures.message("ctx-v26.2", "recovery_code_valid"))
        #expect(shown.text.contains("731904"))
        let hidden = try KratosCourierMessage(
            document: Fixtures.document("ctx-v26.2", "recovery_code_valid")
                .setting(["template_data", "transient_payload"], to: .object(["hide": .bool(true)]))
        )
        let error = try #require(throws: CourierComposeError.self) { try composer.compose(hidden) }
        guard case .template(let templateError) = error else {
            Issue.record("expected a template error, got \(error)")
            return
        }
        #expect(templateError.kind == .missingVariable)
        #expect(!error.description.contains("731904"))
    }

    @Test func descriptionShowsNoSecret() throws {
        let email = try composer.compose(try Fixtures.message("ctx-v26.2", "recovery_code_valid"))
        #expect(!String(describing: email).contains("731904") && !String(reflecting: email).contains("731904"))
    }
}
