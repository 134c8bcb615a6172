import Foundation
import TestSupport
import Testing

/// `send`, `status` and `list` where no gateway answers: bad usage exits 2, an unreachable server 1,
/// each with one line on stderr that never shows the API key. (Their happy paths run against a
/// real gateway in Tests/e2e/test_cli.py.)
@Suite("send, status, list: failures (the built binary)")
struct ClientCommandTests {
    static let alice = "a251ebc2-880c-4f76-a8f3-38e6940eab0e"
    static let key = "rg_cli_test_Secret_key_0123456789"

    @Test func anUnknownFlagIsAUsageErrorOnOneLine() async throws {
        for command in [["send", "--identity", Self.alice], ["status", Self.alice], ["list"]] {
            let result = try await run(
                command + ["--no-such-flag"],
                environment: ["RECOVERY_GATEWAY_API_KEY": Self.key]
            )
            #expect(result.status == 2, "\(command)")
            #expect(result.stderrIsOneLine, "\(result.stderr)")
            #expect(result.stderr.contains("--no-such-flag"))
            #expect(result.stdout.isEmpty)
        }
    }

    @Test func badArgumentsAreRefusedBeforeAnyRequest() async throws {
        let environment = ["RECOVERY_GATEWAY_API_KEY": Self.key]
        let cases: [([String], String)] = [
            (["send"], "give --identity ID or --email ADDRESS"),
            (["send", "--identity", Self.alice, "--email", "a@example.com"], "not both"),
            (["send", "--identity", "not-a-uuid"], "--identity must be a UUID"),
            (
                ["send", "--identity", Self.alice, "--method", "pigeon"],
                "The value 'pigeon' is invalid for '--method <method>'. Please provide one of 'link' and 'code'."
            ),
            (
                ["list", "--status", "lost"],
                "The value 'lost' is invalid for '--status <status>'. "
                    + "Please provide one of 'queued', 'sending', 'retrying', 'sent' or 'failed'."
            ),
            (["send", "--identity", Self.alice, "--wait", "31"], "--wait must be 1 to 30 seconds"),
            (
                ["send", "--identity", Self.alice, "--transient-payload", "[1]"],
                "--transient-payload must be a JSON object"
            ),
            (
                ["send", "--identity", Self.alice, "--transient-payload", "{oops"],
                "--transient-payload must be a JSON object"
            ),
            (["status", "12345"], "the delivery id must be a UUID"),
            (["list", "--limit", "0"], "--limit must be 1 to 200"),
            (
                ["send", "--identity", Self.alice, "--server", "ftp://host/"],
                "--server must be an http:// or https:// URL"
            ),
        ]
        for (arguments, message) in cases {
            let result = try await run(arguments, environment: environment)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stderrIsOneLine, "\(result.stderr)")
        }
    }

    @Test func theAPIKeyMustComeFromAFileOrTheEnvironment() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let none = try await run(["status", Self.alice])
        #expect(none.status == 2)
        #expect(none.stderr.contains("give --api-key-file FILE or set RECOVERY_GATEWAY_API_KEY"))
        let missing = try await run(["list", "--api-key-file", directory.appendingPathComponent("nope").path])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("cannot read the file"))
        let empty = try write("\n", to: "empty", in: directory)
        let blank = try await run(["list", "--api-key-file", empty])
        #expect(blank.status == 2)
        #expect(blank.stderr.contains("holds no API key"))
    }

    @Test func anUnreachableServerFailsWithExit1AndTheKeyToRetryWith() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyFile = try write(Self.key + "\n", to: "key", in: directory)
        let server = try unreachableServer()
        let send = try await run([
            "send", "--identity", Self.alice, "--server", server, "--api-key-file", keyFile,
            "--idempotency-key", "retry-me-1",
        ])
        #expect(send.status == 1)
        #expect(
            send.stderr == "recovery-gateway: cannot reach the gateway at \(server): connection refused "
                + "(idempotency key retry-me-1: retry with --idempotency-key retry-me-1)\n"
        )
        #expect(!send.stderr.contains(Self.key))
        let status = try await run(
            ["status", Self.alice],
            environment: [
                "RECOVERY_GATEWAY_API_KEY": Self.key, "RECOVERY_GATEWAY_SERVER": server,
            ]
        )
        #expect(status.status == 1)
        #expect(status.stderr == "recovery-gateway: cannot reach the gateway at \(server): connection refused\n")
        let list = try await run(["list", "--server", server], environment: ["RECOVERY_GATEWAY_API_KEY": Self.key])
        #expect(list.status == 1)
        #expect(list.stderrIsOneLine)
    }

    @Test func aGeneratedIdempotencyKeyIsShownOnFailureToo() async throws {
        let result = try await run(
            ["send", "--identity", Self.alice, "--server", try unreachableServer()],
            environment: ["RECOVERY_GATEWAY_API_KEY": Self.key]
        )
        #expect(result.status == 1)
        let key = try #require(result.stderr.firstMatch(of: /retry with --idempotency-key (cli-[0-9a-f-]{36})/)?.1)
        #expect(result.stderr.contains("(idempotency key \(key):"))
    }
}
