import Audit
import Foundation
import GatewayConfiguration
import Testing

/// The settings issue 17 added: the checkpoint signing key beside the audit key, and the server's limits from the environment.
@Suite struct AuditServerSettingsTests {
    @Test func theSigningKeyFileDefaultsToBesideTheAuditKey() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("gateway.yaml", "audit: { key_file: /srv/keys/audit.key }\n")
        let configuration = try ConfigurationLoader.load(file: file, environment: [:])
        #expect(configuration.audit.signingKeyFile == "/srv/keys/audit-signing.key")
        let bare = try directory.write("bare.yaml", "audit: { key_file: audit.key }\n")
        #expect(try ConfigurationLoader.load(file: bare, environment: [:]).audit.signingKeyFile == "audit-signing.key")
        #expect(GatewayConfiguration.defaults.audit.signingKeyFile == "keys/audit-signing.key")
    }

    @Test func serverLimitsAndCheckpointsComeFromTheEnvironment() throws {
        let configuration = try ConfigurationLoader.load(
            file: nil,
            environment: [
                "RECOVERY_GATEWAY_SERVER_IDLE_TIMEOUT": "65s",
                "RECOVERY_GATEWAY_SERVER_HEADER_TIMEOUT": "5s",
                "RECOVERY_GATEWAY_SERVER_MAX_CONNECTIONS": "2000",
                "RECOVERY_GATEWAY_SERVER_REQUEST_TIMEOUT": "90s",
                "RECOVERY_GATEWAY_AUDIT_CHECKPOINT_EVERY_EVENTS": "500",
                "RECOVERY_GATEWAY_AUDIT_CHECKPOINT_INTERVAL": "30s",
                "RECOVERY_GATEWAY_AUDIT_STARTUP_VERIFY_EVENTS": "0",
            ]
        )
        #expect(configuration.server.idleTimeout == .seconds(65))
        #expect(configuration.server.requestTimeout == .seconds(90))
        #expect(GatewayConfiguration.defaults.server.requestTimeout == .seconds(60))
        #expect(configuration.server.headerTimeout == .seconds(5))
        #expect(configuration.server.maxConnections == 2000)
        #expect(configuration.audit.checkpointEveryEvents == 500)
        #expect(configuration.audit.checkpointInterval == .seconds(30))
        #expect(configuration.audit.startupVerifyEvents == 0)
        #expect(GatewayConfiguration.defaults.audit.startupVerifyEvents == 1000)
        #expect(configuration.description.contains("  startup_verify_events: 0"))
        #expect(configuration.description.contains("  header_timeout: 5s"))
        #expect(configuration.description.contains("  checkpoint_interval: 30s"))
    }

    @Test func anExistingSigningKeyFileOfTheWrongSizeIsRefusedAtLoad() throws {
        let directory = try TemporaryDirectory()
        let key = try directory.write("audit-signing.key", "short")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)
        let file = try directory.write("gateway.yaml", "audit: { signing_key_file: \"\(key)\" }\n")
        #expect {
            try ConfigurationLoader.load(file: file, environment: [:])
        } throws: { error in
            let error = error as? ConfigurationError
            return error?.key == "audit.signing_key_file" && error?.problem.contains("has 5 bytes") == true
        }
    }

    @Test func previousKeyFilesAreAListFromTheFileOrTheEnvironmentAndMustExist() throws {
        let directory = try TemporaryDirectory()
        let first = try directory.write("old-1.key", bytes: [UInt8](repeating: 1, count: 32))
        let second = try directory.write("old-2.key", bytes: [UInt8](repeating: 2, count: 32))
        let current = try directory.write("audit.key", bytes: [UInt8](repeating: 3, count: 32))
        let file = try directory.write(
            "gateway.yaml",
            "audit:\n  key_file: \"\(current)\"\n  previous_key_files: [\"\(first)\"]\n"
        )
        let configuration = try ConfigurationLoader.load(file: file, environment: [:])
        #expect(configuration.audit.previousKeyFiles == [first])
        let ring = try configuration.audit.resolveKeyRing(createIfMissing: false)
        #expect(ring.current.id == (try AuditKey(bytes: [UInt8](repeating: 3, count: 32))).id)
        #expect(ring.previous.map(\.id) == [(try AuditKey(bytes: [UInt8](repeating: 1, count: 32))).id])
        #expect(configuration.description.contains("  previous_key_files: [\(first)]"))
        #expect(GatewayConfiguration.defaults.audit.previousKeyFiles.isEmpty)

        // The environment gives a YAML list, or one file alone.
        let variable = "RECOVERY_GATEWAY_AUDIT_PREVIOUS_KEY_FILES"
        let listed = try ConfigurationLoader.load(file: file, environment: [variable: "[\(first), \(second)]"])
        #expect(listed.audit.previousKeyFiles == [first, second])
        let alone = try ConfigurationLoader.load(file: file, environment: [variable: second])
        #expect(alone.audit.previousKeyFiles == [second])

        // A previous key is never created: a missing one stops loading, naming its place in the list.
        #expect {
            try ConfigurationLoader.load(file: file, environment: [variable: "[\(first), \(directory.path)/gone.key]"])
        } throws: { error in
            let error = error as? ConfigurationError
            return error?.key == "audit.previous_key_files[1]" && error?.problem.contains("gone.key") == true
        }
        #expect(!FileManager.default.fileExists(atPath: "\(directory.path)/gone.key"))
    }
}
