import Foundation
import Testing
import Yams

@testable import GatewayConfiguration

/// The settings README.md and docs/ name are the configuration's own: the reference of
/// docs/configuration.md is made from config/gateway.yaml (which `DefaultsTests` holds equal to the
/// built-in defaults), every `section.key` and `RECOVERY_GATEWAY_*` variable the pages name exists, and
/// every gateway configuration they show loads.
@Suite struct DocumentedConfigurationTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let referencePage = root.appendingPathComponent("docs/configuration.md")
    static let begin = "<!-- BEGIN generated from config/gateway.yaml -->\n"
    static let end = "<!-- END generated from config/gateway.yaml -->"

    /// README.md and docs/*.md (the dated results under docs/performance/ are records, not kept current).
    static func pages() throws -> [(path: String, text: String)] {
        let docs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        return try (["README.md"] + docs).map {
            ($0, try String(contentsOf: root.appendingPathComponent($0), encoding: .utf8))
        }
    }

    /// The fenced blocks of one language.
    static func blocks(_ language: String, in text: String) -> [String] {
        text.matches(of: /^```(\w*)\n(.*?)^```$/.anchorsMatchLineEndings().dotMatchesNewlines())
            .filter { $0.output.1 == language }.map { String($0.output.2) }
    }

    @Test func theReferenceIsMadeFromTheShippedFile() throws {
        let page = try String(contentsOf: Self.referencePage, encoding: .utf8)
        let start = try #require(page.range(of: Self.begin))
        let stop = try #require(page.range(of: Self.end))
        let shipped = try String(contentsOfFile: DefaultsTests.shippedFile, encoding: .utf8)
        let reference = ConfigurationReference(shippedFile: shipped).markdown
        if page[start.upperBound..<stop.lowerBound] != reference,
            ProcessInfo.processInfo.environment["RECOVERY_GATEWAY_UPDATE_DOCS"] == "1"
        {
            let updated = page.replacingCharacters(in: start.upperBound..<stop.lowerBound, with: reference)
            try updated.write(to: Self.referencePage, atomically: true, encoding: .utf8)
            return
        }
        #expect(
            page[start.upperBound..<stop.lowerBound] == reference,
            "docs/configuration.md is not config/gateway.yaml's: run RECOVERY_GATEWAY_UPDATE_DOCS=1 swift test --skip-build --filter DocumentedConfigurationTests"
        )
        // Every key is a row.
        for section in ConfigurationKeys.sections {
            for key in section.keys {
                #expect(reference.contains("| `\(section.name).\(key)` |"), "\(section.name).\(key)")
            }
        }
        #expect(reference.contains("| `api_keys` |"))
    }

    @Test func everySettingNamedExists() throws {
        let sources = try Self.sourceText()
        var named = 0
        for (path, text) in try Self.pages() where !path.hasPrefix("docs/performance") {
            for match in text.matches(of: /`([a-z]+)\.([a-z_]+)(?::[^`]*)?`/) {
                let (section, key) = (String(match.output.1), String(match.output.2))
                let isSection = ConfigurationKeys.sections.contains { $0.name == section }
                guard isSection, !["yml", "yaml"].contains(key) else { continue }  // `kratos.yml` is a file
                named += 1
                // An audit event's action (`audit.key_rotated`) is a name the sources spell out.
                let known =
                    ConfigurationKeys.isScalarKey(section: section, key: key)
                    || sources.contains("\"\(section).\(key)\"")
                #expect(known, "\(path): `\(section).\(key)` is no setting")
            }
        }
        #expect(named > 50)
    }

    @Test func everyEnvironmentVariableNamedExists() throws {
        let sources = try Self.sourceText()
        var named = 0
        for (path, text) in try Self.pages() {
            for match in text.matches(of: /RECOVERY_GATEWAY_[A-Z0-9_]*[A-Z0-9]/) {
                let name = String(match.output)
                named += 1
                let dotted = name.dropFirst(ConfigurationLoader.environmentPrefix.count).lowercased()
                let isSetting =
                    dotted == ConfigurationKeys.apiKeys
                    || ConfigurationKeys.sections.contains { section in
                        section.keys.contains { dotted == "\(section.name)_\($0)" }
                    }
                #expect(isSetting || sources.contains(name), "\(path): \(name) is read nowhere")
            }
        }
        #expect(named > 5)
    }

    /// Every YAML block whose top-level keys are the gateway's sections loads, with its secret files made
    /// and its absolute paths moved into a temporary directory. (Kratos's own configuration, which has a
    /// `courier` section too, starts with the line `# kratos.yml`.)
    @Test func everyConfigurationShownLoads() throws {
        var loaded = 0
        for (path, text) in try Self.pages() {
            for block in Self.blocks("yaml", in: text) where !block.hasPrefix("# kratos.yml\n") {
                guard let mapping = try Yams.compose(yaml: block)?.mapping else { continue }
                let keys = Set(mapping.keys.compactMap(\.string))
                guard !keys.isEmpty, keys.isSubset(of: Set(ConfigurationKeys.topLevel)) else { continue }
                let directory = try TemporaryDirectory()
                var yaml = block.replacing(
                    /sha256: "<[^>]*>"/,
                    with: "sha256: \"\(String(repeating: "ab", count: 32))\""
                )
                for match in block.matches(of: /(?:[a-z_]+): (?:sqlite:\/\/)?(\/[^\s"#]+)/) {
                    let original = String(match.output.1)
                    let moved = directory.path + original
                    try FileManager.default.createDirectory(
                        atPath: (moved as NSString).deletingLastPathComponent,
                        withIntermediateDirectories: true
                    )
                    if original.hasPrefix("/run/") { _ = try directory.write(String(original.dropFirst()), "secret\n") }
                    yaml = yaml.replacing(original, with: moved)
                }
                do {
                    _ = try ConfigurationLoader.load(yaml: yaml, source: path, environment: [:])
                    loaded += 1
                } catch {
                    Issue.record("\(path): a configuration does not load: \(error)\n\(block)")
                }
            }
        }
        #expect(loaded >= 4)
    }

    /// The repository's sources, scripts and tests, where the names the pages use are spelled out.
    static func sourceText() throws -> String {
        var text = ""
        for directory in ["Sources", "scripts", "benchmarks", "Tests", "deploy"] {
            let base = root.appendingPathComponent(directory)
            guard let walker = FileManager.default.enumerator(atPath: base.path) else { continue }
            for case let file as String in walker
            where [".swift", ".sh", ".py", ".yaml", ".service", "Containerfile"].contains(where: file.hasSuffix) {
                text += (try? String(contentsOf: base.appendingPathComponent(file), encoding: .utf8)) ?? ""
            }
        }
        return text
    }
}

/// The reference tables of docs/configuration.md, from config/gateway.yaml's keys, values and comments:
/// one table per section, a row per key with its default and its comments (the block above it and the
/// one after it on its line and the lines below).
struct ConfigurationReference {
    struct Row {
        let key: String
        let value: String
        var comment: [String]
    }

    var sections: [(name: String, about: [String], rows: [Row])] = []

    init(shippedFile: String) {
        var pending: [String] = []  // comment lines waiting for the key or section below them
        for line in shippedFile.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if let section = line.firstMatch(of: /^([a-z_]+):(?: (.*))?$/) {
                let value = section.output.2.map(String.init) ?? ""
                let rows = value.isEmpty ? [] : [Row(key: String(section.output.1), value: value, comment: [])]
                // The block above a section, up to its first empty line (an example may follow).
                var about = Array(pending.prefix { !$0.isEmpty })
                if let last = about.last, last.hasSuffix(" Example:") {
                    about[about.count - 1] = String(last.dropLast(" Example:".count))
                }
                sections.append((String(section.output.1), about, rows))
                pending = []
            } else if let key = line.firstMatch(of: /^  ([a-z_]+): (.*?)(?:\s+# (.*))?$/) {
                var comment = pending
                // A block above a section's first key that has a comment of its own describes the section.
                if let trailing = key.output.3, sections[sections.count - 1].rows.isEmpty, trailing != "above" {
                    sections[sections.count - 1].about += pending
                    comment = []
                }
                if let trailing = key.output.3, trailing != "above" { comment.append(String(trailing)) }
                sections[sections.count - 1].rows.append(
                    Row(key: String(key.output.1), value: String(key.output.2), comment: comment)
                )
                pending = []
            } else if let comment = line.firstMatch(of: /^( *)# ?(.*)$/) {
                let text = String(comment.output.2)
                // A comment indented past the keys continues the row above it.
                if comment.output.1.count > 2, !sections.isEmpty, !sections[sections.count - 1].rows.isEmpty {
                    let last = sections[sections.count - 1].rows.count - 1
                    sections[sections.count - 1].rows[last].comment.append(text)
                } else if !sections.isEmpty || !pending.isEmpty || line.hasPrefix("#") {
                    pending.append(text)
                }
            } else if line.isEmpty, sections.isEmpty {
                pending = []  // the file's own header
            }
        }
    }

    var markdown: String {
        var text = ""
        for section in sections {
            text += "\n### `\(section.name)`\n\n"
            let about = section.about.filter { !$0.isEmpty }.joined(separator: " ")
            if !about.isEmpty && section.rows.first?.key != section.name { text += Self.escape(about) + "\n\n" }
            text += "| setting | default | what |\n| --- | --- | --- |\n"
            for row in section.rows {
                let name = row.key == section.name ? row.key : "\(section.name).\(row.key)"
                let comment = (row.key == section.name ? section.about : row.comment).filter { !$0.isEmpty }
                text += "| `\(name)` | `\(Self.escape(row.value))` | \(Self.escape(comment.joined(separator: " "))) |\n"
            }
        }
        return text + "\n"
    }

    static func escape(_ text: String) -> String {
        text.replacing("|", with: "\\|").replacing("<", with: "&lt;").replacing(">", with: "&gt;")
    }
}
