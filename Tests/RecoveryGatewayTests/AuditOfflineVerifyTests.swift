import Audit
import Foundation
import GatewayConfiguration
import SQLiteStore
import Store
import TestSupport
import Testing

/// `audit public-key` and `audit verify --file --public-key`: an export checked with the built
/// binary and nothing else (no database, no configuration, no secret), and tampered copies of it.
@Suite("offline audit verification (the built binary)")
struct AuditOfflineVerifyTests {
    /// A store with 10 events and a checkpoint after every 4th, exported to `export.ndjson`, and
    /// the public key printed by `audit public-key` in `audit.pub`.
    struct Fixture {
        let directory: URL
        let export: URL
        let publicKey: String
        let config: String

        init() async throws {
            directory = try makeTemporaryDirectory()
            let database = directory.appendingPathComponent("gateway.sqlite").path
            config = try write(
                "store:\n  url: \"sqlite://\(database)\"\naudit:\n  key_file: \"\(directory.path)/audit.key\"\n",
                to: "gateway.yaml",
                in: directory
            )
            let configuration = try ConfigurationLoader.load(file: config, environment: [:])
            let chain = AuditChain(key: try configuration.audit.resolveKey(createIfMissing: true))
            let key = try configuration.audit.resolveSigningKey(createIfMissing: true)
            let store = try SQLiteStore(path: database, chain: chain)
            try await store.migrate()
            var digest = AuditDigest()
            for index in 1...10 {
                let event = try await store.appendAudit(
                    AuditDraft(
                        at: Date(),
                        actor: "backend",
                        action: .emailRefused,
                        details: ["reason": "test \(index)"]
                    )
                )
                digest.add(event)
                guard index.isMultiple(of: 4) else { continue }
                let checkpoint = AuditCheckpoint(seq: event.seq, digest: digest, head: event.hash, at: Date(), key: key)
                digest.add(
                    try await store.appendAudit(
                        AuditDraft(at: Date(), actor: "system", action: .auditCheckpoint, details: checkpoint.details)
                    )
                )
            }
            export = directory.appendingPathComponent("export.ndjson")
            let exported = try await run(["audit", "export", "--output", export.path, "--config", config])
            try #require(exported.status == 0, "\(exported.stderr)")
            let printed = try await run(["audit", "public-key", "--config", config])
            try #require(printed.status == 0, "\(printed.stderr)")
            publicKey = try write(printed.stdout, to: "audit.pub", in: directory)
        }

        /// The export's lines as JSON objects.
        func lines() throws -> [[String: Any]] {
            try String(contentsOf: export, encoding: .utf8).split(separator: "\n").map {
                try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
        }

        /// `lines` written as an NDJSON file; its path.
        func writeLines(_ lines: [[String: Any]], name: String) throws -> String {
            let text = try lines.map {
                String(
                    decoding: try JSONSerialization.data(
                        withJSONObject: $0,
                        options: [.sortedKeys, .withoutEscapingSlashes]
                    ),
                    as: UTF8.self
                )
            }.joined(separator: "\n")
            return try write(text + "\n", to: name, in: directory)
        }

        func verify(_ file: String, key: String? = nil) async throws -> BinaryRun {
            // No configuration and an empty working directory: nothing but the two files.
            try await run(["audit", "verify", "--file", file, "--public-key", key ?? publicKey], in: directory)
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    @Test func anExportVerifiesOfflineAndSaysWhatItProves() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        #expect(
            try String(contentsOfFile: fixture.publicKey, encoding: .utf8).hasPrefix("-----BEGIN PUBLIC KEY-----\n")
        )
        // Store and key files are out of reach: the verification reads the export and the public key only.
        try FileManager.default.removeItem(at: fixture.directory.appendingPathComponent("gateway.sqlite"))
        try FileManager.default.removeItem(at: fixture.directory.appendingPathComponent("audit.key"))
        let result = try await fixture.verify(fixture.export.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("linked: seq 1-12:"), "\(result.stdout)")
        #expect(result.stdout.contains("signed: seq 1-9 by the checkpoint at seq 10, signed 20"), "\(result.stdout)")
        #expect(result.stdout.contains("(2 checkpoints verified)"))
        #expect(result.stdout.contains("unsigned tail: seq 10-12 (3 events, 1 of them checkpoints)"))
        #expect(result.stderr.isEmpty)
    }

    @Test func truncationAfterACheckpointIsSignedUpToIt() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let file = try fixture.writeLines(Array(try fixture.lines().prefix(5)), name: "truncated.ndjson")
        let result = try await fixture.verify(file)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("linked: seq 1-5:"))
        #expect(result.stdout.contains("signed: seq 1-4 by the checkpoint at seq 5"))
        #expect(result.stdout.contains("unsigned tail: seq 5-5 (1 event, checkpoints only) linked"), "\(result.stdout)")
    }

    @Test func tamperingIsDetectedWithAClearMessage() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let lines = try fixture.lines()
        var edited = lines
        edited[2]["actor"] = "mallory"
        var deleted = lines
        deleted.remove(at: 6)
        var reordered = lines
        reordered.swapAt(1, 2)
        var forged = lines
        var details = try #require(forged[4]["details"] as? [String: String])
        details["digest"] = String(repeating: "0", count: 64)
        forged[4]["details"] = details
        let cases: [(String, [[String: Any]], String)] = [
            ("edited", edited, "checkpoint at seq 5: events 1-4 do not match the signed digest"),
            ("deleted", deleted, "seq 8: expected seq 7, found 8"),
            ("reordered", reordered, "seq 3: expected seq 2, found 3"),
            ("forged", forged, "checkpoint at seq 5: the signature does not verify"),
            ("unsigned", Array(lines.prefix(3)), "not proven: no checkpoint signed by key id"),
        ]
        for (name, tampered, message) in cases {
            let result = try await fixture.verify(try fixture.writeLines(tampered, name: "\(name).ndjson"))
            #expect(result.status == 1, "\(name)")
            #expect(result.stderr.contains(message), "\(name): \(result.stderr)")
            #expect(result.stderrIsOneLine, "\(name)")
        }
    }

    @Test func aCheckpointSignedByAnotherKeyIsNamed() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let other = AuditSigningKey(seed: [UInt8](repeating: 9, count: 32)).publicKey
        let key = try write(Data(other.raw).base64EncodedString() + "\n", to: "other.pub", in: fixture.directory)
        let result = try await fixture.verify(fixture.export.path, key: key)
        #expect(result.status == 1)
        #expect(result.stderr.contains("checkpoint at seq 5 names signing key id "), "\(result.stderr)")
        #expect(result.stderr.contains("not the given public key's \(other.keyID)"))
    }

    @Test func afterASigningKeyChangeBothPublicKeysVerifyAndTheRangesAreNamed() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let configuration = try ConfigurationLoader.load(file: fixture.config, environment: [:])
        let first = try configuration.audit.resolveSigningKey(createIfMissing: false).publicKey
        // The operator changed audit.signing_key_file: two more events, then a checkpoint by the new key.
        let next = AuditSigningKey(seed: [UInt8](repeating: 9, count: 32))
        let chain = AuditChain(key: try configuration.audit.resolveKey(createIfMissing: false))
        let store = try SQLiteStore(path: fixture.directory.appendingPathComponent("gateway.sqlite").path, chain: chain)
        for _ in 0..<2 {
            _ = try await store.appendAudit(AuditDraft(at: Date(), actor: "backend", action: .emailRefused))
        }
        var digest = AuditDigest()
        let events = try await store.auditEvents(afterSeq: 0, limit: 100)
        for event in events { digest.add(event) }
        let checkpoint = AuditCheckpoint(seq: 14, digest: digest, head: events[13].hash, at: Date(), key: next)
        _ = try await store.appendAudit(
            AuditDraft(at: Date(), actor: "system", action: .auditCheckpoint, details: checkpoint.details)
        )
        let exported = try await run(["audit", "export", "--output", fixture.export.path, "--config", fixture.config])
        try #require(exported.status == 0, "\(exported.stderr)")
        let nextKey = try write(next.publicKey.pem, to: "next.pub", in: fixture.directory)

        let both = try await run(
            [
                "audit", "verify", "--file", fixture.export.path, "--public-key", fixture.publicKey, "--public-key",
                nextKey,
            ],
            in: fixture.directory
        )
        #expect(both.status == 0, "\(both.stderr)")
        #expect(both.stdout.contains("signed: seq 1-14 by the checkpoint at seq 15"), "\(both.stdout)")
        #expect(
            both.stdout.contains(
                "signing keys: seq 1-9 by key id \(first.keyID), seq 10-14 by key id \(next.publicKey.keyID)\n"
            ),
            "\(both.stdout)"
        )
        // The first key alone names the second's checkpoint.
        let one = try await fixture.verify(fixture.export.path)
        #expect(one.status == 1)
        #expect(
            one.stderr.contains("checkpoint at seq 15 names signing key id \(next.publicKey.keyID)"),
            "\(one.stderr)"
        )
    }

    @Test func unreadableInputExits2AndAFileThatIsNoExportExits1() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let alone = try await run(["audit", "verify", "--file", fixture.export.path])
        #expect(alone.status == 2)
        #expect(alone.stderr.contains("--file and --public-key go together"), "\(alone.stderr)")
        let notAKey = try await fixture.verify(fixture.export.path, key: fixture.export.path)
        #expect(notAKey.status == 2)
        #expect(notAKey.stderr.contains("not a readable Ed25519 public key"))
        let noFile = try await fixture.verify(fixture.directory.path + "/none.ndjson")
        #expect(noFile.status == 2)
        #expect(noFile.stderr.contains("none.ndjson: cannot read the file"), "\(noFile.stderr)")
        let notAnExport = try await fixture.verify(fixture.config)
        #expect(notAnExport.status == 1)
        #expect(notAnExport.stderr.contains("line 1: not an NDJSON audit event"), "\(notAnExport.stderr)")
        let noSigningKey = try await run(
            ["audit", "public-key", "--config", fixture.config],
            environment: ["RECOVERY_GATEWAY_AUDIT_SIGNING_KEY_FILE": fixture.directory.path + "/none.key"]
        )
        #expect(noSigningKey.status == 1)
        #expect(noSigningKey.stderr.contains("audit.signing_key_file"))
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.path + "/none.key"))
    }
}
