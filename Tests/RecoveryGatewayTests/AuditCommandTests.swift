import Audit
import Foundation
import GatewayConfiguration
import SQLiteStore
import Store
import TestSupport
import Testing

/// `audit export` and `audit verify` on a real SQLite store filled through the Store module.
@Suite("audit commands (the built binary)")
struct AuditCommandTests {
    /// A configuration and a store holding `events` sealed audit events.
    struct Fixture {
        let directory: URL
        let config: String
        let database: String

        init(events: Int) async throws {
            directory = try makeTemporaryDirectory()
            database = directory.appendingPathComponent("gateway.sqlite").path
            let keyFile = directory.appendingPathComponent("audit.key").path
            config = try write(
                "store:\n  url: \"sqlite://\(database)\"\naudit:\n  key_file: \"\(keyFile)\"\n",
                to: "gateway.yaml",
                in: directory
            )
            let configuration = try ConfigurationLoader.load(file: config, environment: [:])
            let chain = AuditChain(key: try configuration.audit.resolveKey(createIfMissing: true))
            let store = try SQLiteStore(path: database, chain: chain)
            try await store.migrate()
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            for index in 0..<events {
                _ = try await store.appendAudit(
                    AuditDraft(
                        at: start.addingTimeInterval(Double(index)),
                        actor: "backend",
                        action: .emailRefused,
                        details: ["reason": "test \(index)"]
                    )
                )
            }
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    @Test func verifyPrintsTheEventsAndHeadAndShowsProgressOnlyOnATerminal() async throws {
        let fixture = try await Fixture(events: 2_500)
        defer { fixture.remove() }
        let piped = try await run(["audit", "verify", "--config", fixture.config])
        #expect(piped.status == 0, "\(piped.stderr)")
        let head = try #require(piped.stdout.firstMatch(of: /^ok: 2500 events, head ([0-9a-f]{64})\n$/)?.1)
        #expect(piped.stderr.isEmpty)

        let terminal = try await run(["audit", "verify", "--config", fixture.config], stderrOnTerminal: true)
        #expect(terminal.status == 0)
        #expect(terminal.stdout == "ok: 2500 events, head \(head)\n")
        #expect(terminal.stderr.contains("audit verify: checked 1000 of 2500 (40%) events"), "\(terminal.stderr)")
        // The line is erased at the end, so the result starts on a clean line.
        #expect(terminal.stderr.hasSuffix("\r\u{1B}[K"))
    }

    @Test func verifyReportsTheFirstBrokenSeqWithExit1() async throws {
        let fixture = try await Fixture(events: 5)
        defer { fixture.remove() }
        let (status, _, _) = try await runCommand(
            "/usr/bin/env",
            [
                "python3", "-c",
                "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                    + "c.execute('DROP TRIGGER IF EXISTS audit_events_no_update'); "
                    + "c.execute(\"UPDATE audit_events SET actor='mallory' WHERE seq=3\"); c.commit()",
                fixture.database,
            ]
        )
        try #require(status == 0)
        let result = try await run(["audit", "verify", "--config", fixture.config])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("recovery-gateway: audit chain broken at seq 3: hash does not match"))
        #expect(result.stderrIsOneLine)
        #expect(result.stdout.isEmpty)
    }

    /// Runs `sql` (`;`-separated) on the fixture's file, then answers its schema as SQLite
    /// describes it and the migrations recorded: what a read-only command must not change.
    func schema(_ fixture: Fixture, after sql: String = "") async throws -> String {
        let (status, output, _) = try await runCommand(
            "/usr/bin/env",
            [
                "python3", "-c",
                "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); "
                    + "print(sorted(c.execute('SELECT type, name, sql FROM sqlite_master').fetchall())); "
                    + "print(sorted(c.execute('SELECT identifier FROM grdb_migrations').fetchall()))",
                fixture.database, sql,
            ]
        )
        try #require(status == 0)
        return String(decoding: output, as: UTF8.self)
    }

    @Test func verifyAndExportNeverMigrateAndNameBothVersionsOfAnotherSchema() async throws {
        let fixture = try await Fixture(events: 3)
        defer { fixture.remove() }
        let current = try await schema(fixture)
        #expect(try await run(["audit", "verify", "--config", fixture.config]).status == 0)
        #expect(try await schema(fixture) == current)

        // A store an older version made (no audit log yet): a migrating command would add it.
        let older = try await schema(
            fixture,
            after: """
                DROP TABLE audit_events;
                DELETE FROM grdb_migrations WHERE identifier NOT IN ('v1_deliveries', 'v2_idempotency_records')
                """
        )
        for command in [["audit", "verify"], ["audit", "export"]] {
            let result = try await run(command + ["--config", fixture.config])
            #expect(result.status == 1, "\(command)")
            #expect(result.stderrIsOneLine)
            #expect(result.stderr.contains("at v2_idempotency_records, older than"), "\(result.stderr)")
            #expect(result.stderr.contains("v9_console_sessions"), "\(result.stderr)")
            #expect(result.stdout.isEmpty)
            #expect(try await schema(fixture) == older)
        }

        // A store a newer version migrated.
        let newer = try await schema(
            fixture,
            after: "INSERT INTO grdb_migrations VALUES ('v3_audit_events'), ('v5_audit_key_id'), ('v99_next')"
        )
        let result = try await run(["audit", "verify", "--config", fixture.config])
        #expect(result.status == 1)
        #expect(result.stderr.contains("at v99_next, newer than this recovery-gateway's v9_console_sessions"))
        #expect(try await schema(fixture) == newer)
    }

    @Test func exportWritesEveryEventAndShowsProgressOnlyOnATerminal() async throws {
        let fixture = try await Fixture(events: 450)
        defer { fixture.remove() }
        let piped = try await run(["audit", "export", "--config", fixture.config])
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stderr.isEmpty)
        let lines = piped.stdout.split(separator: "\n")
        #expect(lines.count == 450)
        let last = try JSONSerialization.jsonObject(with: Data(lines[449].utf8)) as? [String: Any]
        #expect(last?["seq"] as? Int == 450)

        let output = fixture.directory.appendingPathComponent("audit.csv").path
        let terminal = try await run(
            [
                "audit", "export", "--format", "csv", "--since", "2027-01-15T08:03:20Z", "--output", output, "--config",
                fixture.config,
            ],
            stderrOnTerminal: true
        )
        #expect(terminal.status == 0, "\(terminal.stderr)")
        #expect(terminal.stdout.isEmpty)
        #expect(
            terminal.stderr.contains("audit export: 200 events written, seq 400 of 450 (88%)"),
            "\(terminal.stderr)"
        )
        let csv = try String(contentsOfFile: output, encoding: .utf8)
        #expect(csv.hasPrefix("seq,id,at,"))
        // --since is the 201st event's time: 250 events and the header.
        let rows = csv.split(separator: "\r\n")
        #expect(rows.count == 251)
        #expect(rows[1].hasPrefix("201,"))
    }

    /// The CLI reads RFC 3339 times as the API does: lower-case `t` and `z`, fractions, offsets.
    @Test func exportTakesEveryRFC3339FormOfSince() async throws {
        let fixture = try await Fixture(events: 250)
        defer { fixture.remove() }
        // The 201st event's time, written three ways RFC 3339 allows.
        for since in ["2027-01-15t08:03:20z", "2027-01-15T08:03:20.000Z", "2027-01-15T09:03:20+01:00"] {
            let result = try await run(["audit", "export", "--since", since, "--config", fixture.config])
            #expect(result.status == 0, "\(since): \(result.stderr)")
            #expect(result.stdout.split(separator: "\n").count == 50, "\(since)")
        }
        let bad = try await run(["audit", "export", "--since", "yesterday", "--config", fixture.config])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--since must be an RFC 3339 time"))
    }

    @Test func aMissingStoreOrKeyChangesNothingAndExits1() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("none.sqlite").path
        let config = try write(
            "store:\n  url: \"sqlite://\(database)\"\naudit:\n  key_file: \"\(directory.path)/audit.key\"\n",
            to: "gateway.yaml",
            in: directory
        )
        for command in [["audit", "verify"], ["audit", "export"]] {
            let result = try await run(command + ["--config", config])
            #expect(result.status == 1, "\(command)")
            #expect(result.stderrIsOneLine)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["gateway.yaml"])
        }
        let fixture = try await Fixture(events: 1)
        defer { fixture.remove() }
        try FileManager.default.removeItem(at: fixture.directory.appendingPathComponent("audit.key"))
        let noKey = try await run(["audit", "verify", "--config", fixture.config])
        #expect(noKey.status == 1)
        #expect(noKey.stderr.contains("audit.key_file"), "\(noKey.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.appendingPathComponent("audit.key").path))
        let badFormat = try await run(["audit", "export", "--format", "xml", "--config", fixture.config])
        #expect(badFormat.status == 2)
        #expect(
            badFormat.stderr.contains(
                "The value 'xml' is invalid for '--format <format>'. Please provide one of 'ndjson' and 'csv'."
            )
        )
    }
}
