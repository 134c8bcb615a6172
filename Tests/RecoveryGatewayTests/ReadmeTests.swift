import Foundation
import TestSupport
import Testing

/// The README's "Command line" section documents every command and every option that the built
/// binary's `--help` shows, so that the two cannot drift apart.
@Suite("README matches --help")
struct ReadmeTests {
    static let commands: [[String]] = [
        ["serve"], ["migrate"], ["send"], ["batch", "send"], ["status"], ["list"], ["audit", "export"],
        ["audit", "verify"],
        ["audit", "public-key"], ["audit", "rotate-key"],
        ["templates", "check"], ["templates", "preview"], ["templates", "import-kratos"], ["keys", "new"],
        ["smtp-test"],
    ]

    /// The text from `### Command line` to the next `## ` heading.
    static func section() throws -> String {
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "\n### Command line\n"))
        let rest = readme[start.upperBound...]
        let end = rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    @Test func everySubcommandOfTheBinaryIsListedHere() async throws {
        let help = try await run(["help"])
        #expect(help.status == 0)
        let listed = help.stdout.components(separatedBy: "SUBCOMMANDS:").last ?? ""
        // `  name   abstract` (continuation lines of a long abstract are indented further).
        let names = listed.matches(of: /^  ([a-z][a-z-]*)\s/.anchorsMatchLineEndings()).map { String($0.output.1) }
            .filter { $0 != "help" }
        #expect(Set(names) == Set(Self.commands.map { $0[0] }), "\(names)")
    }

    @Test(arguments: commands)
    func everyOptionOfTheCommandIsInTheReadme(command: [String]) async throws {
        let section = try Self.section()
        let help = try await run(command + ["--help"])
        #expect(help.status == 0)
        #expect(
            section.contains("recovery-gateway " + command.joined(separator: " ")),
            "\(command) is not in the README"
        )
        let options = Set(
            help.stdout.matches(of: /(?:^|[^\w-])(--[a-z][a-z0-9-]*)/.anchorsMatchLineEndings()).map {
                String($0.output.1)
            }
        ).subtracting(["--help", "--version"])
        #expect(!options.isEmpty)
        for option in options.sorted() {
            // The whole option: `--to` is not found in `--timeout`.
            let whole = try Regex("(?:^|[^\\w-])" + option + "(?![\\w-])").anchorsMatchLineEndings()
            #expect(section.contains(whole), "\(command.joined(separator: " ")) \(option) is not in the README")
        }
    }
}
