import Foundation
import TestSupport
import Testing

/// The `--help` of each (sub)command of one binary, asked once.
struct HelpCache {
    let binary: String
    var texts: [[String]: String] = [:]

    init(binary: String) { self.binary = binary }

    mutating func help(of path: [String]) async throws -> String {
        if let text = texts[path] { return text }
        let run = try await runCommand(binary, path + ["--help"])
        try #require(run.status == 0, "\(binary) \(path) --help exits \(run.status)")
        let text = String(decoding: run.stdout, as: UTF8.self)
        texts[path] = text
        return text
    }

    /// The names under `SUBCOMMANDS:` (`  name   abstract`).
    mutating func subcommands(of path: [String]) async throws -> Set<String> {
        let listed = try await help(of: path).components(separatedBy: "SUBCOMMANDS:").dropFirst().first ?? ""
        return Set(listed.matches(of: /^  ([a-z][a-z-]*)\s/.anchorsMatchLineEndings()).map { String($0.output.1) })
    }

    /// Every `--option` the help declares: the lines `  --name …` or `  -n, --name …` of its option sections.
    mutating func options(of path: [String]) async throws -> Set<String> {
        let text = try await help(of: path)
        return Set(
            text.matches(of: /^  (?:-[a-zA-Z], )?(--[a-z][a-z0-9-]*)/.anchorsMatchLineEndings()).map {
                String($0.output.1)
            }
        )
    }
}
