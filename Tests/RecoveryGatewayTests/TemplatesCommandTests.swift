import Foundation
import TestSupport
import Testing

/// `templates check | preview | import-kratos`: the built binary on the repository's templates,
/// broken copies of them, and the Kratos fixtures of the Templates tests.
@Suite("templates commands (the built binary)")
struct TemplatesCommandTests {
    static let templates = repositoryRoot.appendingPathComponent("templates").path
    static let kratosFixtures = repositoryRoot.appendingPathComponent("Tests/TemplatesTests/Fixtures/kratos-builtin")
        .path

    /// A copy of the repository's templates in a temporary directory.
    static func copyOfTemplates(in directory: URL) throws -> URL {
        let copy = directory.appendingPathComponent("templates")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: templates), to: copy)
        return copy
    }

    /// The recovery templates, then those of Kratos's courier types (since issue 14's receiver).
    @Test func checkListsEveryTemplateWithItsMethodAndLocales() async throws {
        // Without --config and --dir: templates/ of the working directory, as serve does.
        let result = try await run(["templates", "check"], in: repositoryRoot)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout == """
                ok: 2 templates and 10 courier templates in templates (default locale en)
                recovery (link): de, en
                recovery_code (code): de, en
                login_code_valid (courier): de, en
                recovery_code_invalid (courier): de, en
                recovery_code_valid (courier): de, en
                recovery_invalid (courier): de, en
                recovery_valid (courier): de, en
                registration_code_valid (courier): de, en
                verification_code_invalid (courier): de, en
                verification_code_valid (courier): de, en
                verification_invalid (courier): de, en
                verification_valid (courier): de, en

                """
        )
    }

    @Test func checkReportsTheFileLineAndColumnOfASyntaxError() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = try Self.copyOfTemplates(in: directory)
        let broken = copy.appendingPathComponent("recovery/de/body.txt.mustache")
        try "Hallo {{To}}\n\n{{RecoveryURL}}\n{{#Identity}}\nnever closed\n".write(
            to: broken,
            atomically: true,
            encoding: .utf8
        )
        let result = try await run(["templates", "check", "--dir", copy.path])
        #expect(result.status == 1)
        #expect(result.stderrIsOneLine, "\(result.stderr)")
        #expect(result.stderr.contains("recovery/de/body.txt.mustache:"), "\(result.stderr)")
        #expect(result.stderr.firstMatch(of: #/body\.txt\.mustache:\d+(:\d+)?: /#) != nil, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func checkWithABadConfigurationExits1NamingTheKey() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try write("templates:\n  default_locale: \"not a tag!\"\n", to: "gateway.yaml", in: directory)
        let result = try await run(["templates", "check", "--config", config])
        #expect(result.status == 1)
        #expect(result.stderr.contains("templates.default_locale"), "\(result.stderr)")
        #expect(result.stderrIsOneLine)
        let missing = try await run([
            "templates", "check", "--config", directory.appendingPathComponent("no.yaml").path,
        ])
        #expect(missing.status == 1)
        #expect(missing.stderrIsOneLine)
        let noDirectory = try await run(["templates", "check", "--dir", directory.appendingPathComponent("none").path])
        #expect(noDirectory.status == 1)
        #expect(noDirectory.stderrIsOneLine)
    }

    @Test func previewRendersWithObviouslyFakeSampleData() async throws {
        let link = try await run(["templates", "preview", "recovery", "--locale", "de-CH", "--dir", Self.templates])
        #expect(link.status == 0, "\(link.stderr)")
        #expect(link.stdout.hasPrefix("Subject: "))
        #expect(link.stdout.contains("Locale: de\n"))
        #expect(
            link.stdout.contains(
                "https://kratos.example.invalid/self-service/recovery?flow=PREVIEW&token=NOT-A-REAL-TOKEN"
            )
        )
        #expect(link.stdout.contains("user@example.com"))
        #expect(link.stdout.contains("--- text/html ---"))
        let code = try await run(["templates", "preview", "recovery_code", "--locale", "en", "--dir", Self.templates])
        #expect(code.status == 0, "\(code.stderr)")
        #expect(code.stdout.contains("000000"))
        #expect(code.stdout.contains("Locale: en\n"))
    }

    @Test func previewWritesTheFullMessageAndTheHTMLPart() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let identity = try write(
            """
            {"id": "5b4c9a8e-3f1d-4c2a-9e7b-1d2f3a4b5c6d", "schema_id": "default",
             "traits": {"email": "first@example.org", "name": {"first": "Ada"}},
             "recovery_addresses": [{"id": "00000000-0000-4000-8000-000000000001", "value": "first@example.org", "via": "email"}]}
            """,
            to: "identity.json",
            in: directory
        )
        let eml = directory.appendingPathComponent("out/preview.eml")
        try FileManager.default.createDirectory(at: eml.deletingLastPathComponent(), withIntermediateDirectories: true)
        let html = directory.appendingPathComponent("out/preview.html")
        let result = try await run([
            "templates", "preview", "recovery", "--locale", "en", "--identity-file", identity, "--eml", eml.path,
            "--html", html.path, "--dir", Self.templates,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "rendered recovery (en, link) for first@example.org\n")
        let parsed = try await ParsedMessage.parse(try Data(contentsOf: eml))
        #expect(parsed.defects.isEmpty)
        #expect(parsed.header("To") == "first@example.org")
        #expect(parsed.header("Subject")?.isEmpty == false)
        #expect(parsed.header("Message-ID")?.hasPrefix("<") == true)
        #expect(parsed.contentType == "multipart/alternative")
        #expect(parsed.text?.contains("NOT-A-REAL-TOKEN") == true)
        let htmlPart = try String(contentsOf: html, encoding: .utf8)
        #expect(htmlPart.contains("<html") || htmlPart.contains("<p"))
        // The message has CRLF line ends (RFC 5322); the HTML file has the template's.
        let fromMessage = parsed.html?.replacingOccurrences(of: "\r\n", with: "\n")
        #expect(
            fromMessage?.trimmingCharacters(in: .whitespacesAndNewlines)
                == htmlPart.trimmingCharacters(in: .whitespacesAndNewlines)
        )
    }

    @Test func previewRefusesBadInputWithExit2() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let notJSON = try write("{ nope", to: "bad.json", in: directory)
        let noID = try write(#"{"schema_id": "default", "traits": {}}"#, to: "noid.json", in: directory)
        let cases: [([String], String)] = [
            (["preview", "nope", "--locale", "en"], "no template named nope"),
            (["preview", "recovery", "--locale", "en", "--method", "code"], "serves the link method, not code"),
            (["preview", "recovery", "--locale", "!!"], "locale"),
            (["preview", "recovery"], "--locale"),
            (["preview", "recovery", "--locale", "en", "--identity-file", notJSON], "not JSON"),
            (["preview", "recovery", "--locale", "en", "--identity-file", noID], "id is missing or mistyped"),
            (
                ["preview", "recovery", "--locale", "en", "--identity-file", "/nonexistent/x.json"],
                "cannot read the file"
            ),
        ]
        for (arguments, message) in cases {
            let result = try await run(["templates"] + arguments + ["--dir", Self.templates])
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stderrIsOneLine, "\(result.stderr)")
        }
        let unwritable = try await run([
            "templates", "preview", "recovery", "--locale", "en", "--eml", "/nonexistent/dir/x.eml", "--dir",
            Self.templates,
        ])
        #expect(unwritable.status == 1)
        #expect(unwritable.stderr.contains("--eml /nonexistent/dir/x.eml: cannot write the file"))
    }

    @Test func importKratosWritesTemplatesThatCheckOut() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("imported").path
        let result = try await run(["templates", "import-kratos", Self.kratosFixtures, "--output", output])
        #expect(result.status == 0, "\(result.stderr)")
        let written = result.stdout.split(separator: "\n").map { String($0.dropFirst("wrote ".count)) }
        #expect(written.count == 6)
        #expect(written.contains(output + "/recovery/en/body.txt.mustache"))
        #expect(written.contains(output + "/recovery_code/en/subject.mustache"))
        let check = try await run(["templates", "check", "--dir", output])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("recovery (link): en\nrecovery_code (code): en\n"))
        let preview = try await run(["templates", "preview", "recovery_code", "--locale", "en", "--dir", output])
        #expect(preview.status == 0, "\(preview.stderr)")
        #expect(preview.stdout.contains("000000"))

        // A second import would overwrite: refused (exit 1), nothing changed.
        let before = try String(contentsOfFile: output + "/recovery/en/body.txt.mustache", encoding: .utf8)
        let again = try await run(["templates", "import-kratos", Self.kratosFixtures, "--output", output])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists; refusing to overwrite"))
        #expect(try String(contentsOfFile: output + "/recovery/en/body.txt.mustache", encoding: .utf8) == before)
        let forced = try await run([
            "templates", "import-kratos", Self.kratosFixtures, "--output", output, "--overwrite",
        ])
        #expect(forced.status == 0)
    }

    @Test func importKratosRefusesAMissingDirectoryWithExit2() async throws {
        let result = try await run(["templates", "import-kratos", "/nonexistent/kratos-templates"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("/nonexistent/kratos-templates is not a directory"))
        #expect(result.stderrIsOneLine)
        let empty = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: empty) }
        let nothing = try await run([
            "templates", "import-kratos", empty.path, "--output", empty.appendingPathComponent("o").path,
        ])
        #expect(nothing.status == 1)
        #expect(nothing.stderr.contains("holds no Kratos recovery templates"))
    }
}
