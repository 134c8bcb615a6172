import Foundation
import GoDuration
import Logging
import Mail
import Templates
import Testing
import Yams

@testable import GatewayConfiguration

@Suite struct DefaultsTests {
    /// The repository's config/gateway.yaml, found from this file's path.
    static let shippedFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config/gateway.yaml").path

    @Test func emptyDocumentGivesTheDocumentedDefaults() throws {
        let configuration = try ConfigurationLoader.load(yaml: "", source: "empty")
        #expect(configuration == .defaults)
        #expect(configuration.server.host == "127.0.0.1")
        #expect(configuration.server.port == 8080)
        #expect(configuration.server.maxBodyBytes == 16_384)
        #expect(configuration.kratos.adminURL == "http://127.0.0.1:4434")
        #expect(configuration.kratos.token == nil)
        #expect(configuration.kratos.timeout == .seconds(5))
        #expect(configuration.smtp.url == "smtp://127.0.0.1:1025/")
        #expect(configuration.smtp.fromAddress.description == "no-reply@example.com")
        #expect(configuration.smtp.connections == 8)
        #expect(configuration.store.kind == .sqlite(path: "data/gateway.sqlite"))
        #expect(configuration.store.maxConnections == 20)
        #expect(configuration.store.connectionWait == .seconds(5))
        #expect(configuration.audit.keyFile == "keys/audit.key")
        #expect(configuration.delivery.expiresIn == .seconds(3_600))
        #expect(configuration.delivery.backoffMax == .seconds(300))
        #expect(configuration.delivery.ratePerKey == 10)
        #expect(configuration.delivery.burstPerKey == 20)
        #expect(configuration.delivery.idempotencyWindow == .seconds(86_400))
        #expect(configuration.delivery.workers == 32)
        #expect(configuration.templates.defaultLocale.description == "en")
        #expect(configuration.logging.level == .info)
        #expect(configuration.logging.format == .json)
        #expect(configuration.apiKeys.isEmpty)
        let smtp = try configuration.smtp.makeSMTPConfiguration()
        #expect(smtp.security == .startTLS)
        #expect(smtp.port == 1_025)
    }

    @Test func noFileMeansDefaults() throws {
        #expect(try ConfigurationLoader.load(file: nil, environment: [:]) == .defaults)
    }

    @Test func shippedFileEqualsDefaults() throws {
        let configuration = try ConfigurationLoader.load(file: Self.shippedFile, environment: [:])
        #expect(configuration == .defaults)
    }

    @Test func shippedFileListsEveryKey() throws {
        let text = try String(contentsOfFile: Self.shippedFile, encoding: .utf8)
        let root = try #require(try Yams.compose(yaml: text))
        let topLevel = Set((root.mapping.map { Array($0.keys) } ?? []).compactMap(\.string))
        #expect(topLevel == Set(ConfigurationKeys.topLevel))
        for section in ConfigurationKeys.sections {
            let keys = Set((root[section.name]?.mapping.map { Array($0.keys) } ?? []).compactMap(\.string))
            #expect(keys == Set(section.keys), "section \(section.name)")
        }
        // Every key line carries a comment, or sits under a comment block explaining it.
        let keyLines = text.split(separator: "\n").filter { $0.hasPrefix("  ") && !$0.hasPrefix("  #") }
        let uncommented = keyLines.filter { !$0.contains("#") }
        #expect(
            uncommented.allSatisfy { ["  url: smtp://127.0.0.1:1025/", "  key_file: keys/audit.key"].contains($0) }
        )
        #expect(text.contains("?disable_starttls=true"))
    }

    @Test func descriptionRendersGoDurations() {
        let text = GatewayConfiguration.defaults.description
        #expect(text.contains("expires_in: 1h0m0s"))
        #expect(text.contains("backoff_max: 5m0s"))
        #expect(text.contains("url: smtp://127.0.0.1:1025/"))
        #expect(text.contains("api_keys: []"))
        // The description parses back to the same values where it is YAML-compatible.
        #expect(GoDurationSyntax.parse("1h0m0s")?.value == 3_600_000_000_000)
    }
}
