import Foundation
import TestSupport
import Testing

/// The manual pages of docs/man/ (made by scripts/man.sh with swift-argument-parser's generate-manual)
/// describe the command line as the built binary's `--help` does: one page per command and subcommand,
/// none more, each with the command's abstract and exactly its options. When this fails, run
/// scripts/man.sh.
@Suite("The manual pages match --help")
struct ManualPageTests {
    static let directory = repositoryRoot.appendingPathComponent("docs/man")

    /// Every command path of the binary (`[]`, `["audit"]`, `["audit", "verify"]`, …), and the `help`
    /// command that ArgumentParser adds (not listed by `--help`).
    static func commandPaths(_ help: inout HelpCache) async throws -> [[String]] {
        var paths: [[String]] = [[], ["help"]]
        var index = 0
        while index < paths.count {
            let path = paths[index]
            if path != ["help"] {
                for name in try await help.subcommands(of: path).sorted() { paths.append(path + [name]) }
            }
            index += 1
        }
        return paths
    }

    static func pageName(_ path: [String]) -> String { (["recovery-gateway"] + path).joined(separator: ".") + ".1" }

    @Test func everyCommandHasItsPageAndNoPageIsLeftOver() async throws {
        var help = HelpCache(binary: gatewayBinary)
        let expected = Set(try await Self.commandPaths(&help).map(Self.pageName))
        #expect(expected.count > 20)
        let pages = Set(try FileManager.default.contentsOfDirectory(atPath: Self.directory.path))
        #expect(pages == expected, "run scripts/man.sh")
    }

    @Test func everyPageHasTheAbstractAndExactlyTheOptionsOfItsCommand() async throws {
        var help = HelpCache(binary: gatewayBinary)
        // `help --help` shows the root's help: its page is ArgumentParser's own.
        for path in try await Self.commandPaths(&help) where path != ["help"] {
            let name = Self.pageName(path)
            let page = try String(contentsOf: Self.directory.appendingPathComponent(name), encoding: .utf8)
            let text = try await help.help(of: path)
            // `OVERVIEW: …` up to the first blank line, as one line.
            let overview = text.firstMatch(of: /OVERVIEW: ((?:.+\n)+)/).map {
                $0.output.1.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            }
            let abstract = page.firstMatch(of: /^\.Nd "(.*)"$/.anchorsMatchLineEndings()).map { String($0.output.1) }
            #expect(abstract != nil && abstract == overview, "\(name): run scripts/man.sh")
            // `.It Fl -name`, `.Op Fl -name`, `Fl h , -help`: every long option the page names.
            let documented = Set(page.matches(of: /Fl (?:[a-z] , )?(-[a-z][a-z0-9-]*)/).map { "-" + $0.output.1 })
            let options = try await help.options(of: path)
            #expect(documented == options, "\(name): run scripts/man.sh")
        }
    }
}
