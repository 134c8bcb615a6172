import Foundation
import Templates
import Testing

/// Loading refuses, with file and line where there is one, everything that would otherwise fail at send time.
@Suite struct CatalogLoadTests {
    private func loadError(_ directory: TempDirectory, defaultLocale: String = "en") -> TemplateError? {
        templateError { () throws(TemplateError) in
            try TemplateCatalog.load(directory: directory.path, defaultLocale: defaultLocale)
        }
    }

    @Test func brokenTemplateNamesFileLineAndProblem() throws {
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        try directory.writeLinkTemplate()
        try directory.write(
            "recovery/en/body.txt.mustache",
            "Hello\n\n{{#Identity}}\nOpen {{RecoveryURL}}\n{{/Identiti}}\n"
        )
        let error = try #require(loadError(directory))
        #expect(error.kind == .syntax)
        #expect(error.file == directory.path + "/recovery/en/body.txt.mustache")
        #expect(error.line == 5)
        #expect(error.message.contains("closing tag does not match"))
        #expect(error.description.hasPrefix(directory.path + "/recovery/en/body.txt.mustache:5:"))
    }

    @Test func brokenHTMLAndSubjectReportTheirOwnLines() throws {
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        try directory.writeLinkTemplate(html: "<p>\n<a href=\"{{RecoveryURL}}\">go</a>\n{{#To}}\n</p>\n")
        let html = try #require(loadError(directory))
        #expect(html.kind == .syntax)
        #expect(html.file?.hasSuffix("recovery/en/body.html.mustache") == true)
        #expect(html.message.contains("never closed"))

        try directory.writeLinkTemplate()
        try FileManager.default.removeItem(atPath: directory.path + "/recovery/en/body.html.mustache")
        try directory.write("recovery/en/subject.mustache", "Reset {{To\n")
        let subject = try #require(loadError(directory))
        #expect(subject.file?.hasSuffix("recovery/en/subject.mustache") == true)
        #expect(subject.line == 1)
        #expect(subject.column == 7)
        #expect(subject.message.contains("never closed"))
    }

    @Test func templateWithoutLinkOrCodeIsRefused() throws {
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        try directory.write("recovery/en/subject.mustache", "Recover\n")
        try directory.write("recovery/en/body.txt.mustache", "Hello {{To}}, click here: {{RecoveryUrl}}\n")
        let error = try #require(loadError(directory))
        #expect(error.kind == .missingVariable)
        #expect(error.file?.hasSuffix("recovery/en/body.txt.mustache") == true)
        #expect(error.message.contains("neither RecoveryURL"))
    }

    @Test func htmlBodyMissingTheRequiredVariableIsRefused() throws {
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        try directory.writeLinkTemplate(html: "<p>Please open the link in the text part.</p>\n")
        let error = try #require(loadError(directory))
        #expect(error.kind == .missingVariable)
        #expect(error.file?.hasSuffix("recovery/en/body.html.mustache") == true)
        #expect(error.message.contains("never outputs RecoveryURL"))
    }

    @Test func linkHiddenBehindDataIsReportedAtLoad() throws {
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        try directory.write("recovery/en/subject.mustache", "Recover\n")
        try directory.write(
            "recovery/en/body.txt.mustache",
            "{{#Identity.traits.vip}}{{RecoveryURL}}{{/Identity.traits.vip}}\n"
        )
        #expect(loadError(directory)?.kind == .missingVariable)
    }

    @Test func methodIsInferredAndMustAgreeAcrossLocales() throws {
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        try directory.writeLinkTemplate()
        try directory.write("recovery_code/en/subject.mustache", "Code\n")
        try directory.write(
            "recovery_code/en/body.txt.mustache",
            "{{RecoveryCode}}{{#RecoveryURL}} at {{RecoveryURL}}{{/RecoveryURL}}\n"
        )
        let catalog = try TemplateCatalog.load(directory: directory.path, defaultLocale: "en")
        #expect(catalog.method(of: "recovery") == .link)
        #expect(catalog.method(of: "recovery_code") == .code)
        #expect(catalog.names == ["recovery", "recovery_code"])

        try directory.write("recovery/de/subject.mustache", "Code\n")
        try directory.write("recovery/de/body.txt.mustache", "{{RecoveryCode}}\n")
        let error = try #require(loadError(directory))
        #expect(error.message.contains("must serve one method"))
    }

    @Test func everyTemplateNeedsTheDefaultLocale() throws {
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        try directory.writeLinkTemplate(locale: "de")
        let error = try #require(loadError(directory, defaultLocale: "en"))
        #expect(error.kind == .layout)
        #expect(error.message.contains("default locale en"))
        #expect(loadError(directory, defaultLocale: "DE") == nil)
        #expect(loadError(directory, defaultLocale: "../de")?.kind == .invalidLocale)
    }

    @Test(arguments: [
        ("Recovery/en/subject.mustache", "template directory name"),
        ("recovery/english_UK/subject.mustache", "not a BCP 47"),
        ("recovery/en/body.htm.mustache", "unexpected file"),
        ("recovery/notes.txt", "unexpected file"),
    ])
    func badLayoutIsRefused(extraFile: String, expected: String) throws {
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        try directory.writeLinkTemplate()
        try directory.write(extraFile, "x")
        let error = try #require(loadError(directory))
        #expect(error.kind == .layout)
        #expect(error.message.contains(expected))
    }

    @Test func missingTextBodyIsRefused() throws {
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        try directory.write("recovery/en/subject.mustache", "Recover\n")
        try directory.write("recovery/en/body.html.mustache", "<a href=\"{{RecoveryURL}}\">go</a>")
        let error = try #require(loadError(directory))
        #expect(error.message.contains("missing body.txt.mustache"))
    }

    @Test func symlinkOutOfTheTreeIsRefused() throws {
        let outside = try TempDirectory()
        defer { outside.cleanUp() }
        try outside.write("secret.txt", "{{RecoveryURL}} root:x:0:0\n")
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        try directory.writeLinkTemplate()
        try FileManager.default.removeItem(atPath: directory.path + "/recovery/en/body.txt.mustache")
        try FileManager.default.createSymbolicLink(
            atPath: directory.path + "/recovery/en/body.txt.mustache",
            withDestinationPath: outside.path + "/secret.txt"
        )
        let error = try #require(loadError(directory))
        #expect(error.kind == .outsideDirectory)
        #expect(error.file?.hasSuffix("recovery/en/body.txt.mustache") == true)
    }

    @Test func symlinkedLocaleDirectoryOutOfTheTreeIsRefused() throws {
        let outside = try TempDirectory()
        defer { outside.cleanUp() }
        try outside.writeLinkTemplate()
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        try directory.writeLinkTemplate()
        try FileManager.default.createSymbolicLink(
            atPath: directory.path + "/recovery/de",
            withDestinationPath: "../../" + (outside.path as NSString).lastPathComponent + "/recovery/en"
        )
        #expect(loadError(directory)?.kind == .outsideDirectory)
    }

    @Test func symlinkInsideTheTreeIsFollowed() throws {
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        try directory.writeLinkTemplate()
        try FileManager.default.createSymbolicLink(
            atPath: directory.path + "/recovery/de-AT",
            withDestinationPath: "en"
        )
        let catalog = try TemplateCatalog.load(directory: directory.path, defaultLocale: "en")
        #expect(catalog.locales(of: "recovery") == ["de-AT", "en"])
    }

    @Test func missingOrEmptyDirectoryIsRefused() throws {
        let directory = try TempDirectory()
        defer { directory.cleanUp() }
        #expect(loadError(directory)?.message.contains("no templates") == true)
        let missing = templateError { () throws(TemplateError) in
            try TemplateCatalog.load(directory: directory.path + "/nope", defaultLocale: "en")
        }
        #expect(missing?.kind == .io)
    }
}
