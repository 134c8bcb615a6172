import Domain
import Foundation
import GatewayConfiguration
import TestSupport
import Testing

/// The built `recovery-gateway` binary, next to the test bundle.
let gatewayBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    .appendingPathComponent("recovery-gateway").path

/// Runs the binary (inheriting this environment); returns its exit status, standard output and
/// standard error.
func gateway(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
    let run = try await runCommand(gatewayBinary, arguments)
    return (run.status, String(decoding: run.stdout, as: UTF8.self), String(decoding: run.stderr, as: UTF8.self))
}

@Suite("recovery-gateway command line (the built binary)", .serialized)
struct CommandLineTests {
    @Test func versionAndHelp() async throws {
        let version = try await gateway(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout == "0.1.0\n")
        let help = try await gateway(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("smtp-test"))
        #expect(help.stdout.contains("Sends Ory Kratos account-recovery emails."))
    }

    @Test func badUsageExitsWith2() async throws {
        let unknown = try await gateway(["smtp-test", "--no-such-flag"])
        #expect(unknown.status == 2)
        let badURL = try await gateway([
            "smtp-test", "--url", "smtp://user:Secret99@host:99999/", "--to", "a@example.com",
        ])
        #expect(badURL.status == 2)
        #expect(badURL.stderr.contains("port"))
        #expect(!badURL.stderr.contains("Secret99"))
        let badAddress = try await gateway(["smtp-test", "--url", "smtp://host/", "--to", "not-an-address"])
        #expect(badAddress.status == 2)
        #expect(badAddress.stderr.contains("to: not a valid email address"))
    }

    @Test func sendsATestEmail() async throws {
        let server = try await AiosmtpdServer.start(tls: .starttls, auth: "ops:pw-Secret-42")
        defer { server.stop() }
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let passwordFile = directory.appendingPathComponent("password")
        try "pw-Secret-42\n".write(to: passwordFile, atomically: true, encoding: .utf8)
        let result = try await gateway([
            "smtp-test", "--url", "smtp://ops@localhost:\(server.port)/", "--password-file", passwordFile.path,
            "--ca-file", server.certificate, "--to", "someone@example.com",
        ])
        #expect(result.status == 0)
        #expect(result.stdout.contains("250 2.0.0 Ok: queued as TEST000001"))
        #expect(!result.stdout.contains("pw-Secret-42"))
        let received = try server.messages()
        try #require(received.count == 1)
        let parsed = try await ParsedMessage.parse(received[0].raw)
        #expect(parsed.header("Subject") == "recovery-gateway SMTP test")
        #expect(parsed.header("To") == "someone@example.com")
    }

    @Test func aFailedSendExitsWith1AndOneLine() async throws {
        let server = try await AiosmtpdServer.start(tls: .starttls, auth: "ops:right")
        defer { server.stop() }
        let result = try await gateway([
            "smtp-test", "--url", "smtp://ops:Wrong-Secret@localhost:\(server.port)/", "--ca-file", server.certificate,
            "--to", "someone@example.com",
        ])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("recovery-gateway: SMTP configuration failure at auth 535"))
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(!result.stderr.contains("Wrong-Secret"))
        #expect(try server.messages().isEmpty)
    }
}

@Suite("recovery-gateway keys new (the built binary)")
struct KeysCommandTests {
    @Test func aNewKeyAndItsConfigurationLineWorkTogether() async throws {
        let result = try await gateway([
            "keys", "new", "--name", "support", "--scope", "recovery:read", "--scope", "recovery:send",
        ])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 2)
        let key = String(lines[0].dropFirst("key: ".count))
        #expect(key.hasPrefix("rg_") && key.count == 67)
        let configuration = try ConfigurationLoader.load(
            yaml: "api_keys:\n" + lines[1],
            source: "test",
            environment: [:]
        )
        let admitted = try #require(configuration.apiKey(matching: key))
        #expect(admitted.name == "support")
        #expect(admitted.scopes == [.send, .read])
        #expect(configuration.apiKey(matching: key + "x") == nil)
        let bad = try await gateway(["keys", "new", "--name", "x", "--scope", "everything"])
        #expect(bad.status == 2)
    }

    /// A support agent's key, named as the console's README says (the name is the audit log's actor).
    @Test func anAgentsKeyIsNamedWithAnAt() async throws {
        let result = try await gateway([
            "keys", "new", "--name", "alice@support", "--scope", "recovery:send", "--scope", "recovery:read",
        ])
        #expect(result.status == 0)
        let line = try #require(result.stdout.split(separator: "\n").last.map(String.init))
        let configuration = try ConfigurationLoader.load(yaml: "api_keys:\n" + line, source: "test", environment: [:])
        #expect(configuration.apiKeys.map(\.name) == ["alice@support"])
        let bad = try await gateway(["keys", "new", "--name", "alice support", "--scope", "recovery:send"])
        #expect(bad.status == 2)
    }
}
