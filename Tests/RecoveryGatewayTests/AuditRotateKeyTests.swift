import Audit
import Foundation
import GatewayConfiguration
import SQLiteStore
import Store
import TestSupport
import Testing

/// `audit rotate-key` with the built binary on a real SQLite store: the new key file, the rotation
/// event, the configuration lines it prints, and verification across the rotation (with the
/// database and offline), or naming the key that is missing.
@Suite("audit rotate-key (the built binary)")
struct AuditRotateKeyTests {
    typealias Fixture = AuditCommandTests.Fixture

    /// A configuration file for the fixture's store with the given audit lines.
    func config(_ fixture: Fixture, _ audit: String, name: String) throws -> String {
        try write(
            "store:\n  url: \"sqlite://\(fixture.database)\"\naudit:\n\(audit)",
            to: name,
            in: fixture.directory
        )
    }

    @Test func rotateKeyCreatesTheKeySealsTheRotationAndPrintsTheLinesToChange() async throws {
        let fixture = try await Fixture(events: 3)
        defer { fixture.remove() }
        let oldFile = fixture.directory.appendingPathComponent("audit.key").path
        let newFile = fixture.directory.appendingPathComponent("keys/audit-2.key").path
        let oldID = try AuditKey.load(file: URL(fileURLWithPath: oldFile)).id

        let result = try await run(["audit", "rotate-key", "--new-key-file", newFile, "--config", fixture.config])
        #expect(result.status == 0, "\(result.stderr)")
        let newKey = try AuditKey.load(file: URL(fileURLWithPath: newFile))
        let attributes = try FileManager.default.attributesOfItem(atPath: newFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(
            result.stdout.hasPrefix("rotated the audit log at seq 4: key id \(oldID) -> \(newKey.id)\n"),
            "\(result.stdout)"
        )
        // The signing key's default follows key_file's directory: it is spelled out, so that it stays.
        let signingFile = fixture.directory.appendingPathComponent("audit-signing.key").path
        #expect(
            result.stdout.hasSuffix(
                "audit:\n  key_file: \(newFile)\n  previous_key_files: [\(oldFile)]\n  signing_key_file: \(signingFile)\n"
            ),
            "\(result.stdout)"
        )

        // The printed lines verify the whole log, across the rotation.
        let rotated = try config(
            fixture,
            "  key_file: \"\(newFile)\"\n  previous_key_files: [\"\(oldFile)\"]\n",
            name: "rotated.yaml"
        )
        let verified = try await run(["audit", "verify", "--config", rotated])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.hasPrefix("ok: 4 events, head "))
        // The old configuration fails closed at the rotation; without the old key, the first event names it.
        let stale = try await run(["audit", "verify", "--config", fixture.config])
        #expect(stale.status == 1)
        #expect(
            stale.stderr.contains(
                "audit chain broken at seq 4: event seq 4 was sealed by key id \(newKey.id), which is not in "
                    + "audit.key_file or audit.previous_key_files"
            ),
            "\(stale.stderr)"
        )
        let forgotten = try config(fixture, "  key_file: \"\(newFile)\"\n", name: "forgotten.yaml")
        let missing = try await run(["audit", "verify", "--config", forgotten])
        #expect(missing.status == 1 && missing.stderrIsOneLine)
        #expect(
            missing.stderr.contains("event seq 1 was sealed by key id \(oldID), which is not in audit.key_file"),
            "\(missing.stderr)"
        )
        #expect(!missing.stderr.contains("edited"))

        // Once more with the same file: refused, nothing changes.
        let again = try await run(["audit", "rotate-key", "--new-key-file", newFile, "--config", rotated])
        #expect(again.status == 2 && again.stderr.contains("--new-key-file \(newFile): the file exists"))
        #expect(try await run(["audit", "verify", "--config", rotated]).stdout.hasPrefix("ok: 4 events, head "))
    }

    @Test func anExportSpanningARotationVerifiesOffline() async throws {
        let fixture = try await Fixture(events: 3)
        defer { fixture.remove() }
        let oldFile = fixture.directory.appendingPathComponent("audit.key").path
        let newFile = fixture.directory.appendingPathComponent("audit-2.key").path
        let rotation = try await run(["audit", "rotate-key", "--new-key-file", newFile, "--config", fixture.config])
        try #require(rotation.status == 0, "\(rotation.stderr)")
        let rotated = try config(
            fixture,
            "  key_file: \"\(newFile)\"\n  previous_key_files: [\"\(oldFile)\"]\n",
            name: "rotated.yaml"
        )
        // One more event and a checkpoint over all of them, as the gateway's checkpointer writes it.
        let configuration = try ConfigurationLoader.load(file: rotated, environment: [:])
        let chain = AuditChain(keys: try configuration.audit.resolveKeyRing(createIfMissing: false))
        let store = try SQLiteStore(path: fixture.database, chain: chain)
        _ = try await store.appendAudit(AuditDraft(at: Date(), actor: "backend", action: .emailRefused))
        var digest = AuditDigest()
        let events = try await store.auditEvents(afterSeq: 0, limit: 100)
        for event in events { digest.add(event) }
        #expect(events.map(\.keyID) == Array(repeating: events[0].keyID, count: 3) + [chain.keyID, chain.keyID])
        let signing = try configuration.audit.resolveSigningKey(createIfMissing: true)
        let checkpoint = AuditCheckpoint(seq: 5, digest: digest, head: events[4].hash, at: Date(), key: signing)
        _ = try await store.appendAudit(
            AuditDraft(at: Date(), actor: "system", action: .auditCheckpoint, details: checkpoint.details)
        )

        let export = fixture.directory.appendingPathComponent("export.ndjson").path
        let exported = try await run(["audit", "export", "--output", export, "--config", rotated])
        try #require(exported.status == 0, "\(exported.stderr)")
        let lines = try String(contentsOfFile: export, encoding: .utf8).split(separator: "\n")
        #expect(
            lines[3].contains("\"action\":\"audit.key_rotated\"") && lines[3].contains("\"key_id\":\"\(chain.keyID)\"")
        )
        let printed = try await run(["audit", "public-key", "--config", rotated])
        let publicKey = try write(printed.stdout, to: "audit.pub", in: fixture.directory)
        // No database, no audit key: the export and the public key only.
        try FileManager.default.removeItem(atPath: fixture.database)
        let offline = try await run(["audit", "verify", "--file", export, "--public-key", publicKey])
        #expect(offline.status == 0, "\(offline.stderr)")
        #expect(offline.stdout.contains("signed: seq 1-5 by the checkpoint at seq 6"), "\(offline.stdout)")
        // An edited rotation (another key id claimed) breaks the signed digest.
        let edited = String(lines[3]).replacingOccurrences(of: chain.keyID, with: String(repeating: "0", count: 16))
        let tampered = try write(
            (lines[..<3] + [Substring(edited)] + lines[4...]).joined(separator: "\n") + "\n",
            to: "tampered.ndjson",
            in: fixture.directory
        )
        let broken = try await run(["audit", "verify", "--file", tampered, "--public-key", publicKey])
        #expect(broken.status == 1 && broken.stderr.contains("do not match the signed digest"), "\(broken.stderr)")
    }
}
