import Foundation
import JSONValue
import Testing

@testable import Templates

/// The importer against Kratos-style courier templates; the golden outputs under
/// `Fixtures/go-expected` were produced by Go's text/template and html/template (see
/// `Fixtures/go-reference/render.go`), so a conversion that renders differently fails here.
@Suite struct KratosImportTests {
    /// The data sets of `Fixtures/go-reference-data/*.json` as `TemplateData`.
    private func dataSet(_ name: String) throws -> (link: TemplateData, code: TemplateData) {
        let raw = try Data(contentsOf: URL(fileURLWithPath: Paths.fixture("go-reference-data/\(name).json")))
        let json = try JSONDecoder().decode(JSONValue.self, from: raw)
        func string(_ key: String) -> String { json[key]?.stringValue ?? "" }
        guard case .number(let minutes) = json["ExpiresInMinutes"] else { throw CocoaError(.fileReadCorruptFile) }
        let link = TemplateData(
            to: string("To"),
            recoveryURL: string("RecoveryURL"),
            identityID: json["Identity"]?["id"]?.stringValue ?? "",
            traits: json["Identity"]?["traits"] ?? .null,
            expiresInMinutes: Int(minutes),
            transientPayload: json["TransientPayload"] ?? .null
        )
        var code = link
        code.recoveryURL = nil
        code.recoveryCode = string("RecoveryCode")
        return (link, code)
    }

    private func expected(_ source: String, _ dataSet: String, _ name: String, _ part: String) -> String? {
        try? String(
            contentsOfFile: Paths.fixture("go-expected/\(source)/\(dataSet)/\(name)/\(part).txt"),
            encoding: .utf8
        )
    }

    @Test(arguments: ["kratos-builtin", "kratos-custom"])
    func importedTemplatesRenderExactlyAsGoDoes(source: String) throws {
        let destination = try TempDirectory()
        defer { destination.cleanUp() }
        let written = try KratosTemplateImporter.importDirectory(from: Paths.fixture(source), to: destination.path)
        #expect(written.allSatisfy { $0.hasPrefix(destination.path + "/recovery") })
        #expect(written.contains(destination.path + "/recovery/en/body.txt.mustache"))
        #expect(written.contains(destination.path + "/recovery_code/en/subject.mustache"))

        let catalog = try TemplateCatalog.load(directory: destination.path, defaultLocale: "en")
        #expect(catalog.method(of: "recovery") == .link)
        #expect(catalog.method(of: "recovery_code") == .code)
        var compared = 0
        for set in ["full", "reason", "minimal"] {
            let data = try dataSet(set)
            for (name, method, values) in [
                ("recovery", RecoveryMethod.link, data.link), ("recovery_code", .code, data.code),
            ] {
                let email = try catalog.render(name, locale: "en", method: method, data: values)
                let subject = try #require(expected(source, set, name, "subject"))
                #expect(
                    email.subject == subject.trimmingCharacters(in: .whitespacesAndNewlines),
                    "\(source) \(set) \(name)"
                )
                #expect(email.text == expected(source, set, name, "text"), "\(source) \(set) \(name) text")
                #expect(email.html == expected(source, set, name, "html"), "\(source) \(set) \(name) html")
                compared += 1
            }
        }
        #expect(compared == 6)
    }

    @Test func builtinImportIgnoresInvalidTemplatesAndWritesTheLayout() throws {
        let destination = try TempDirectory()
        defer { destination.cleanUp() }
        let written = try KratosTemplateImporter.importDirectory(
            from: Paths.fixture("kratos-builtin"),
            to: destination.path,
            locale: "de-ch"
        )
        let relative = written.map { String($0.dropFirst(destination.path.count + 1)) }
        #expect(
            relative == [
                "recovery/de-CH/body.html.mustache", "recovery/de-CH/body.txt.mustache",
                "recovery/de-CH/subject.mustache",
                "recovery_code/de-CH/body.html.mustache", "recovery_code/de-CH/body.txt.mustache",
                "recovery_code/de-CH/subject.mustache",
            ]
        )
        let text = try String(contentsOfFile: destination.path + "/recovery/de-CH/body.txt.mustache", encoding: .utf8)
        #expect(text.contains("{{RecoveryURL}}"))
        #expect(!text.contains(".RecoveryURL"))
    }

    @Test func existingFilesAreNotOverwrittenUnlessAsked() throws {
        let destination = try TempDirectory()
        defer { destination.cleanUp() }
        try destination.write("recovery/en/subject.mustache", "mine\n")
        let error = templateError { () throws(TemplateError) in
            try KratosTemplateImporter.importDirectory(from: Paths.fixture("kratos-builtin"), to: destination.path)
        }
        #expect(error?.message.contains("refusing to overwrite") == true)
        #expect(
            try String(contentsOfFile: destination.path + "/recovery/en/subject.mustache", encoding: .utf8) == "mine\n"
        )
        try KratosTemplateImporter.importDirectory(
            from: Paths.fixture("kratos-builtin"),
            to: destination.path,
            overwrite: true
        )
        #expect(
            try String(contentsOfFile: destination.path + "/recovery/en/subject.mustache", encoding: .utf8)
                == "Recover access to your account"
        )
    }

    @Test(arguments: [
        ("Hi {{ .To }}\n{{ range .Identity.traits.emails }}{{ . }}{{ end }}\n", 2, "`{{ range }}`"),
        ("{{ .RecoveryURL }}\n\n{{ upper .Identity.traits.name }}\n", 3, "function call `upper`"),
        ("{{ .RecoveryURL | html }}\n", 1, "pipeline"),
        ("{{ $x := .To }}{{ .RecoveryURL }}", 1, "variable"),
        ("{{ .RecoveryURL }}\n{{ if eq .To \"a\" }}x{{ end }}", 2, "string literal"),
        ("{{ .RecoveryURL }}\n{{ if and .To .RecoveryURL }}x{{ end }}", 2, "only `if .Field`"),
        ("{{ .RecoveryURL }}\n{{ template \"footer\" . }}", 2, "`{{ template }}`"),
        ("{{ .RecoveryURL }}\n\n\n{{ .RequestURL }}", 4, "`.RequestURL` is not a field"),
        ("{{ .RecoveryURL }} {{ .Identity.metadata_public.x }}", 1, "`.Identity.id` and `.Identity.traits` only"),
        ("{{ .RecoveryURL }}\n{{ if .To }}\nunclosed\n", 2, "never closed"),
        ("{{ .RecoveryURL }}\n{{ end }}", 2, "without an open"),
        ("{{ .RecoveryURL }}\n{{ . }}", 2, "whole data"),
        ("{{ .RecoveryURL }}\n{{ .TransientPayload }}", 2, "whole map"),
        ("{{ .RecoveryURL }}\n{{ .To.x }}", 2, "has no fields"),
        ("{{ .RecoveryURL }}\n{{ 3 }}", 2, "number literal"),
        ("{{ .RecoveryURL }}\n{ {{- .To }}", 2, "`{` directly before"),
        ("{{ .RecoveryURL }}\n{{ .To ", 2, "unclosed action"),
    ])
    func unsupportedConstructsAreRefusedWithFileAndLine(source: String, line: Int, expected: String) {
        let error = templateError { () throws(TemplateError) in
            try GoToMustache.convert(source, file: "t/email.body.plaintext.gotmpl", html: false)
        }
        #expect(error?.kind == .unsupportedConstruct || error?.kind == .syntax)
        #expect(error?.file == "t/email.body.plaintext.gotmpl")
        #expect(error?.line == line, "\(source)")
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error")")
    }

    /// A `{` right before `{{ else }}`, `{{ end }}` or the end of the template made Mustache that does not
    /// parse (the converter's own "internal error"; found by `scripts/fuzz.sh go-template`): refused instead.
    @Test(arguments: [
        "a{", "{", "{{ .RecoveryURL }}\n{", "{{ if .To }}a{ {{- end }}", "{{ if .To }}a{{ else }}b{ {{- end }}",
    ])
    func aBraceBeforeTheEndOfASectionOrTheTemplateIsRefused(source: String) {
        let error = templateError { () throws(TemplateError) in
            try GoToMustache.convert(source, file: "t/email.body.plaintext.gotmpl", html: false)
        }
        #expect(error?.kind == .unsupportedConstruct)
        #expect(error?.message.contains("`{` directly before") == true, "\(error?.message ?? "no error")")
    }

    @Test func refusedImportWritesNothingAndNamesTheFile() throws {
        let source = try TempDirectory()
        defer { source.cleanUp() }
        try source.write("recovery/valid/email.subject.gotmpl", "Recover")
        try source.write("recovery/valid/email.body.plaintext.gotmpl", "{{ .RecoveryURL }}")
        try source.write("recovery_code/valid/email.subject.gotmpl", "Code")
        try source.write(
            "recovery_code/valid/email.body.plaintext.gotmpl",
            "Code:\n{{ printf \"%s\" .RecoveryCode }}\n"
        )
        let destination = try TempDirectory()
        defer { destination.cleanUp() }
        let error = try #require(
            templateError { () throws(TemplateError) in
                try KratosTemplateImporter.importDirectory(from: source.path, to: destination.path)
            }
        )
        #expect(error.file?.hasSuffix("recovery_code/valid/email.body.plaintext.gotmpl") == true)
        #expect(error.line == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination.path).isEmpty)
    }

    @Test func conversionKeepsGoLineBreaksAroundStandaloneActions() throws {
        let source = "A\n{{ if .To }}\nB\n  {{ end }}  \nC {{ with .Identity.traits }}{{ .email }}{{ end }}\n"
        let mustache = try GoToMustache.convert(source, file: "t", html: false)
        #expect(
            mustache
                == "A\n{{!}}{{#truthy(To)}}\nB\n  {{!}}{{/truthy(To)}}  \nC {{#truthy(Identity.traits)}}{{Identity.traits.email}}{{/truthy(Identity.traits)}}\n"
        )
        #expect(try GoToMustache.convert("{{- /* c */ -}}\n  x {{- .To -}} \n y", file: "t", html: false) == "x{{To}}y")
    }
}
