import Foundation
import TestSupport
import Testing

/// The version is kept in one place, `VERSION` (a link to Sources/Wiring/VERSION, which the binary
/// embeds): `--version`, the container image's label and the changelog's latest release agree with it.
/// (The `User-Agent` sent to Kratos and `recovery_gateway_build_info`: ServerTests' BuildInfoTests.)
@Suite struct VersionTests {
    static func file(_ path: String) throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent(path), encoding: .utf8)
    }

    static func version() throws -> String {
        try file("VERSION").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func theVersionIsSemantic() throws {
        #expect(try Self.version().wholeMatch(of: /[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?/) != nil)
    }

    @Test func dashDashVersionPrintsIt() async throws {
        let answer = try await run(["--version"])
        #expect(answer.status == 0)
        #expect(answer.stdout == (try Self.version()) + "\n")
    }

    @Test func theContainerLabelDefaultsToIt() throws {
        let containerfile = try Self.file("deploy/Containerfile")
        let argument = try #require(containerfile.firstMatch(of: /^ARG VERSION=(\S+)$/.anchorsMatchLineEndings()))
        #expect(String(argument.output.1) == (try Self.version()))
        #expect(containerfile.contains("org.opencontainers.image.version=\"${VERSION}\""))
    }

    @Test func theChangelogsLatestReleaseIsIt() throws {
        let changelog = try Self.file("CHANGELOG.md")
        let latest = try #require(
            changelog.firstMatch(of: /^## \[([0-9][^\]]*)\] - [0-9]{4}-[0-9]{2}-[0-9]{2}$/.anchorsMatchLineEndings())
        )
        #expect(String(latest.output.1) == (try Self.version()))
    }
}
