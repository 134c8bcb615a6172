import Foundation
import TestSupport
import Testing

/// README.md and the pages under docs/ stay true to the repository: every command line of the two
/// binaries names real subcommands and options, every link and repository path leads somewhere, every
/// route is in openapi.yaml and every metric is one the gateway exports. (The settings they name are
/// checked by `DocumentedConfigurationTests`, the `curl` requests run by Tests/e2e/test_docs.py.)
@Suite("The documentation matches the code")
struct DocumentationTests {
    /// The pages for every reader, as the README's map lists them.
    static let readerPages = [
        "getting-started", "configuration", "api", "kratos", "console", "batches", "operations", "auditors",
        "security", "performance",
    ].map { "docs/\($0).md" }

    @Test func everyReaderHasAPageAndTheReadmeMapsIt() throws {
        let readme = try #require(Documentation.pages.first { $0.path == "README.md" })
        for page in Self.readerPages {
            #expect(FileManager.default.fileExists(atPath: repositoryRoot.appendingPathComponent(page).path), "\(page)")
            #expect(readme.text.contains("](\(page))"), "the README does not link \(page)")
        }
        let lines = readme.text.split(separator: "\n", omittingEmptySubsequences: false).count
        #expect((120...200).contains(lines), "the README has \(lines) lines")
    }

    @Test func everyRelativeLinkLeadsToAFileAndHeading() throws {
        for page in Documentation.pages {
            for link in page.relativeLinks {
                let parts = link.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let target =
                    parts[0].isEmpty
                    ? page.url : page.url.deletingLastPathComponent().appendingPathComponent(parts[0]).standardized
                #expect(
                    FileManager.default.fileExists(atPath: target.path),
                    "\(page.path): \(link) leads nowhere"
                )
                if parts.count == 2 {
                    let text = try String(contentsOf: target, encoding: .utf8)
                    #expect(
                        Documentation.headingAnchors(text).contains(parts[1]),
                        "\(page.path): \(link) names no heading"
                    )
                }
            }
        }
    }

    @Test func everyRepositoryPathNamedInCodeExists() {
        for page in Documentation.pages where !page.isRecord {
            for path in page.repositoryPaths {
                let file = repositoryRoot.appendingPathComponent(path).path
                #expect(FileManager.default.fileExists(atPath: file), "\(page.path): `\(path)` does not exist")
            }
        }
    }

    @Test func everyRouteIsInTheAPIDocument() throws {
        let openAPI = try String(
            contentsOf: repositoryRoot.appendingPathComponent("openapi.yaml"),
            encoding: .utf8
        )
        let documented = Set(
            openAPI.matches(of: /^  (\/[^:]+):$/.anchorsMatchLineEndings()).map { String($0.output.1) }
        )
        var routes = 0
        for page in Documentation.pages where !page.isRecord {
            for match in page.text.matches(of: /(?:GET|POST|PUT|PATCH|DELETE) (\/[a-z0-9\/{}._-]*[a-z0-9}])/) {
                let path = String(match.output.1)
                // The console's pages and the stand-in's routes are not the API's.
                guard path.hasPrefix("/v1/") || path.hasPrefix("/health/") || path == "/metrics" else { continue }
                routes += 1
                #expect(documented.contains(path), "\(page.path): \(path) is not in openapi.yaml")
            }
        }
        #expect(routes > 10)
    }

    @Test func everyMetricIsOneTheGatewayExports() throws {
        let source = try String(
            contentsOf: repositoryRoot.appendingPathComponent("Sources/Domain/GatewayMetric.swift"),
            encoding: .utf8
        )
        let exported = Set(source.matches(of: /"(recovery_gateway_[a-z_]+)"/).map { String($0.output.1) })
        #expect(exported.count > 10)
        var named = 0
        for page in Documentation.pages where !page.isRecord {
            for match in page.text.matches(of: /recovery_gateway_[a-z_]+/) {
                named += 1
                let name = String(match.output).replacing(/_(bucket|count|sum)$/, with: "")
                #expect(exported.contains(name), "\(page.path): \(name) is not a metric")
            }
            // The metrics table names them without the prefix, in its first column.
            guard let table = page.text.firstMatch(of: /\| metric \| labels \|\n(?:\|.*\n)+/) else { continue }
            for row in table.output.split(separator: "\n").dropFirst(2) {
                let first = row.split(separator: "|").first ?? ""
                for name in first.matches(of: /`([a-z_]+)`/) {
                    named += 1
                    let full = "recovery_gateway_" + name.output.1
                    #expect(exported.contains(full), "\(page.path): \(name.output.1) is not a metric")
                }
            }
        }
        #expect(named > 10)
    }

    @Test(arguments: ["recovery-gateway", "kratos-stand-in"])
    func everyCommandLineNamesRealSubcommandsAndOptions(program: String) async throws {
        let binary = URL(fileURLWithPath: gatewayBinary).deletingLastPathComponent().appendingPathComponent(program)
            .path
        var help = HelpCache(binary: binary)
        var checked = 0
        for page in Documentation.pages where !page.isRecord {
            for line in page.commandLines(of: program) {
                checked += 1
                var path: [String] = []
                var tokens = line[...]
                // The subcommands: `a|b|c` names several at one level (each is checked).
                while let word = tokens.first, !word.hasPrefix("-") {
                    let known = try await help.subcommands(of: path)
                    let names = word.split(separator: "|").map(String.init)
                    guard let first = names.first, known.contains(first) else { break }
                    for name in names { #expect(known.contains(name), "\(page.path): \(program) \(name) in `\(line)`") }
                    path.append(first)
                    tokens = tokens.dropFirst()
                }
                let options = try await help.options(of: path)
                for token in tokens {
                    guard let option = token.firstMatch(of: /^\[?(--[a-z][a-z0-9-]*)/)?.output.1 else { continue }
                    #expect(
                        options.contains(String(option)),
                        "\(page.path): `\(line.joined(separator: " "))`: \(option) is not an option of \(([program] + path).joined(separator: " "))"
                    )
                }
            }
        }
        #expect(checked > 0)
    }
}

/// README.md and every Markdown page under docs/, read once.
struct Documentation: Sendable {
    let path: String
    let text: String

    var url: URL { repositoryRoot.appendingPathComponent(path) }

    /// A record of its day, not kept true to today's code: dated results (docs/performance/), design
    /// documents (docs/design/), and the notes each branch leaves for the lead to fold in (docs/notes/).
    var isRecord: Bool { ["docs/performance/", "docs/design/", "docs/notes/"].contains { path.hasPrefix($0) } }

    static let pages: [Documentation] = {
        var paths = ["README.md"]
        let docs = repositoryRoot.appendingPathComponent("docs")
        if let walker = FileManager.default.enumerator(atPath: docs.path) {
            for case let file as String in walker where file.hasSuffix(".md") { paths.append("docs/" + file) }
        }
        return paths.sorted().map { path in
            Documentation(
                path: path,
                text: (try? String(contentsOf: repositoryRoot.appendingPathComponent(path), encoding: .utf8)) ?? ""
            )
        }
    }()

    /// The page without its fenced code blocks.
    var prose: String { text.replacing(/^```.*?^```$/.anchorsMatchLineEndings().dotMatchesNewlines(), with: "") }

    /// The targets of the Markdown links and images that stay in the repository.
    var relativeLinks: [String] {
        prose.matches(of: /\]\(([^)\s]+)\)/).map { String($0.output.1) }
            .filter { !$0.contains("://") && !$0.hasPrefix("mailto:") }
    }

    /// Repository paths in inline code: `scripts/test.sh`, `deploy/systemd/`, `Tests/e2e/test_docs.py`.
    var repositoryPaths: [String] {
        let roots =
            /^(?:\.\.\/)*((?:scripts|benchmarks|deploy|config|templates|Tests|Sources|docs)\/[A-Za-z0-9_.\/-]*)$/
        return text.matches(of: /`([^`\s]+)`/).compactMap { match in
            guard let path = String(match.output.1).firstMatch(of: roots)?.output.1 else { return nil }
            return String(path)
        }
    }

    /// Every command line that runs `program`: in sh blocks (a `$ ` prompt and `\` continuations
    /// removed; up to a comment, redirection, pipe or `&&`) and in inline code; the words after the program.
    func commandLines(of program: String) -> [[String]] {
        var lines: [String] = []
        for block in text.matches(of: /^```sh\n(.*?)^```$/.anchorsMatchLineEndings().dotMatchesNewlines()) {
            lines += String(block.output.1).replacing(/\\\n\s*/, with: " ").split(separator: "\n").map(String.init)
        }
        lines += prose.matches(of: /`([^`]+)`/).map { String($0.output.1) }
        return lines.compactMap { line in
            let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard let start = words.firstIndex(where: { $0 == program || $0.hasSuffix("/" + program) }) else {
                return nil
            }
            // Not a mention in prose or a path, like `recovery-gateway(1)` or `/usr/local/bin/recovery-gateway`.
            if start > 0 && !["$", "sudo", "exec"].contains(words[start - 1]) && words[0] != "$" {
                guard words[..<start].allSatisfy({ $0.contains("=") }) else { return nil }
            }
            let rest = words[(start + 1)...].prefix { !["#", ">", "|", "&&", ";", "<"].contains($0) }
            return Array(rest)
        }
    }

    /// GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces as hyphens.
    static func headingAnchors(_ text: String) -> Set<String> {
        let prose = text.replacing(/^```.*?^```$/.anchorsMatchLineEndings().dotMatchesNewlines(), with: "")
        return Set(
            prose.matches(of: /^#{1,6} (.+)$/.anchorsMatchLineEndings()).map { heading in
                String(heading.output.1).lowercased().filter {
                    $0.isLetter || $0.isNumber || $0 == " " || $0 == "-" || $0 == "_"
                }
                .replacing(" ", with: "-")
            }
        )
    }
}
