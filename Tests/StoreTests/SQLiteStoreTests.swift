import Foundation
import GRDB
import Store
import Testing

@testable import Audit
@testable import SQLiteStore

/// What only the SQLite implementation promises: WAL, triggers, schema versions, tamper evidence
/// on the file itself.
@Suite struct SQLiteStoreTests {
    struct Opened {
        let directory: TemporaryDirectory
        let path: String
        let chain: AuditChain
        let store: SQLiteStore
    }

    func open() async throws -> Opened {
        let directory = try TemporaryDirectory()
        let path = directory.path("gateway.sqlite")
        let chain = AuditChain(key: AuditKey.random())
        let store = try SQLiteStore(path: path, chain: chain)
        try await store.migrate()
        return Opened(directory: directory, path: path, chain: chain, store: store)
    }

    /// Five events: one accepted delivery, four refusals.
    func fillLog(_ opened: Opened) async throws -> [AuditEvent] {
        _ = try await opened.store.accept(Fixtures.newDelivery(chain: opened.chain))
        for index in 1...4 {
            _ = try await opened.store.appendAudit(Fixtures.draft(.emailRefused, at: Fixtures.t0 + Double(index)))
        }
        return try await opened.store.auditEvents(afterSeq: 0, limit: 10)
    }

    func raw(_ opened: Opened, _ sql: String) throws {
        let queue = try DatabaseQueue(path: opened.path)
        try queue.write { db in try db.execute(sql: sql) }
    }

    /// A log written before events named their key (schema v3, canonical encoding version 1) keeps
    /// verifying after `v5_audit_key_id`, and the events sealed after it follow on.
    @Test func eventsSealedBeforeKeyIDsKeepTheirVersion1Hash() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("gateway.sqlite")
        let key = AuditKey.random()
        let queue = try DatabaseQueue(path: path)
        try SQLiteSchema.migrator.migrate(queue, upTo: "v3_audit_events")
        var prevHash = AuditEvent.genesisHash
        for seq in Int64(1)...3 {
            var event = AuditEvent(
                seq: seq,
                id: UUID(),
                draft: Fixtures.draft(.emailRefused),
                prevHash: prevHash,
                hash: ""
            )
            event.hash = AuditChain.mac(of: event, key: key)
            prevHash = event.hash
            try await queue.write { [event] db in
                try db.execute(
                    sql: """
                        INSERT INTO audit_events (seq, id, at_us, actor, action, outcome, details, prev_hash, hash)
                        VALUES (?, ?, ?, ?, ?, ?, '{}', ?, ?)
                        """,
                    arguments: [
                        event.seq, event.id.uuidString.lowercased(), event.atMicroseconds, event.actor,
                        event.action.rawValue, event.outcome, event.prevHash, event.hash,
                    ]
                )
            }
        }
        try queue.close()
        let chain = AuditChain(key: key)
        let store = try SQLiteStore(path: path, chain: chain)
        try await store.migrate()
        let old = try await store.auditEvents(afterSeq: 0, limit: 10)
        #expect(old.map(\.keyID) == [nil, nil, nil])
        let next = try await store.appendAudit(Fixtures.draft(.emailSent))
        #expect(next.keyID == chain.keyID && next.prevHash == old[2].hash)
        #expect(try await store.verifyAudit(chain: chain) == .ok(events: 4, head: next.hash))
        // Version-1 events name no key: another key alone finds them edited, as before.
        #expect(
            try await store.verifyAudit(chain: AuditChain(key: AuditKey.random()))
                == .broken(firstBadSeq: 1, reason: .hashMismatch)
        )
    }

    @Test func usesWALInOneFile() async throws {
        let opened = try await open()
        defer { opened.directory.remove() }
        let durability = try await opened.store.durability()
        #expect(durability.journalMode == "wal")
        // GRDB turns the writer to NORMAL with WAL; the store must have set it back to FULL.
        #expect(durability.synchronous == 2)
        _ = try await opened.store.accept(Fixtures.newDelivery(chain: opened.chain))
        #expect(FileManager.default.fileExists(atPath: opened.path + "-wal"))
    }

    /// Commits leave the WAL's checkpoints to the connection beside the writer: the database file
    /// takes the pages of the first `WALCheckpointer.everyCommits` commits without any of them
    /// reaching the writer's own threshold.
    @Test func checkpointsRunBesideTheWriter() async throws {
        let opened = try await open()
        defer { opened.directory.remove() }
        let writerPages = try await opened.store.write { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") }
        #expect(writerPages == WALCheckpointer.writerPages)
        func fileSize() throws -> Int {
            try FileManager.default.attributesOfItem(atPath: opened.path)[.size] as? Int ?? 0
        }
        let before = try fileSize()
        for index in 0..<WALCheckpointer.everyCommits {
            _ = try await opened.store.appendAudit(Fixtures.draft(.emailRefused, at: Fixtures.t0 + Double(index)))
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while try fileSize() == before, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try fileSize() > before)
        #expect(try await opened.store.verifyAudit(chain: opened.chain).isOK)
    }

    @Test func auditRowsCannotBeUpdatedOrDeleted() async throws {
        let opened = try await open()
        defer { opened.directory.remove() }
        _ = try await fillLog(opened)
        for sql in ["UPDATE audit_events SET actor = 'x' WHERE seq = 2", "DELETE FROM audit_events WHERE seq = 5"] {
            #expect {
                try raw(opened, sql)
            } throws: { error in
                (error as? DatabaseError)?.message == "audit_events is append-only"
            }
        }
        #expect(try await opened.store.verifyAudit(chain: opened.chain).isOK)
    }

    @Test func verifyFindsAnEditedFieldAfterTheTriggersAreDropped() async throws {
        let opened = try await open()
        defer { opened.directory.remove() }
        _ = try await fillLog(opened)
        try raw(opened, "DROP TRIGGER audit_events_no_update; UPDATE audit_events SET outcome = 'ok' WHERE seq = 3")
        #expect(
            try await opened.store.verifyAudit(chain: opened.chain) == .broken(firstBadSeq: 3, reason: .hashMismatch)
        )
    }

    @Test func verifyFindsADeletedEvent() async throws {
        let opened = try await open()
        defer { opened.directory.remove() }
        _ = try await fillLog(opened)
        try raw(opened, "DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq = 2")
        #expect(
            try await opened.store.verifyAudit(chain: opened.chain)
                == .broken(firstBadSeq: 2, reason: .sequenceGap(expected: 2, found: 3))
        )
    }

    @Test func verifyFindsTwoSwappedEvents() async throws {
        let opened = try await open()
        defer { opened.directory.remove() }
        _ = try await fillLog(opened)
        try raw(
            opened,
            """
            DROP TRIGGER audit_events_no_update;
            UPDATE audit_events SET seq = -1 WHERE seq = 3;
            UPDATE audit_events SET seq = 3 WHERE seq = 4;
            UPDATE audit_events SET seq = 4 WHERE seq = -1;
            """
        )
        #expect(
            try await opened.store.verifyAudit(chain: opened.chain)
                == .broken(firstBadSeq: 3, reason: .previousHashMismatch)
        )
    }

    @Test func verifyWithAnotherKeyFails() async throws {
        let opened = try await open()
        defer { opened.directory.remove() }
        _ = try await fillLog(opened)
        let other = AuditChain(key: AuditKey.random())
        #expect(
            try await opened.store.verifyAudit(chain: other)
                == .broken(firstBadSeq: 1, reason: .unknownKey(seq: 1, keyID: opened.chain.keyID))
        )
    }

    @Test func aNewerSchemaIsRefused() async throws {
        let opened = try await open()
        defer { opened.directory.remove() }
        try raw(opened, "INSERT INTO grdb_migrations (identifier) VALUES ('v99_from_the_future')")
        #expect(throws: StoreError.schemaTooNew(unknown: ["v99_from_the_future"])) {
            try SQLiteStore(path: opened.path, chain: opened.chain)
        }
        await #expect(throws: StoreError.schemaTooNew(unknown: ["v99_from_the_future"])) {
            try await opened.store.migrate()
        }
    }

    /// The schema as SQLite describes it, and the migrations recorded: what must not change.
    func schema(_ path: String) throws -> [String] {
        try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT type || ' ' || name || ' ' || ifnull(sql, '') FROM sqlite_master")
                + String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        }.sorted()
    }

    @Test func readOnlyRefusesAnotherVersionsSchemaAndWritesAndChangesNothing() async throws {
        let opened = try await open()
        defer { opened.directory.remove() }
        _ = try await fillLog(opened)
        let current = try schema(opened.path)
        let reader = try SQLiteStore(path: opened.path, chain: opened.chain, readOnly: true)
        #expect(try await reader.verifyAudit(chain: opened.chain).isOK)
        await #expect(throws: StoreError.self) { try await reader.appendAudit(Fixtures.draft(.emailRefused)) }
        #expect(try schema(opened.path) == current)

        // An older version's schema (no audit log yet) is neither migrated nor read.
        let names = SQLiteSchema.migrator.migrations
        let newest = try #require(names.last)
        try raw(
            opened,
            """
            DROP TABLE audit_events;
            DELETE FROM grdb_migrations WHERE identifier NOT IN ('v1_deliveries', 'v2_idempotency_records')
            """
        )
        let older = try schema(opened.path)
        #expect(
            throws: StoreError.schemaOlder(database: "v2_idempotency_records", binary: newest)
        ) {
            try SQLiteStore(path: opened.path, chain: opened.chain, readOnly: true)
        }
        #expect(try schema(opened.path) == older)

        // A newer version's: its newest migration is named, by number (v10 after v9).
        let restored = names.dropFirst(2).map { "('\($0)')" }.joined(separator: ", ")
        try raw(opened, "INSERT INTO grdb_migrations (identifier) VALUES \(restored), ('v9_a'), ('v10_b')")
        #expect(throws: StoreError.schemaNewer(database: "v10_b", binary: newest)) {
            try SQLiteStore(path: opened.path, chain: opened.chain, readOnly: true)
        }
        // A file that does not exist is not created.
        #expect(throws: StoreError.self) {
            try SQLiteStore(path: opened.directory.path("none.sqlite"), chain: opened.chain, readOnly: true)
        }
        #expect(!FileManager.default.fileExists(atPath: opened.directory.path("none.sqlite")))
    }

    @Test func anUnmigratedStoreSaysSo() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(path: directory.path("fresh.sqlite"), chain: AuditChain(key: AuditKey.random()))
        await #expect(throws: StoreError.schemaNotMigrated(missing: SQLiteSchema.migrator.migrations)) {
            try await store.ping()
        }
        try await store.migrate()
        try await store.ping()
    }

    @Test func dataSurvivesReopening() async throws {
        let opened = try await open()
        defer { opened.directory.remove() }
        let events = try await fillLog(opened)
        let reopened = try SQLiteStore(path: opened.path, chain: opened.chain)
        try await reopened.migrate()
        #expect(try await reopened.verifyAudit(chain: opened.chain) == .ok(events: 5, head: events[4].hash))
        #expect(try await reopened.auditEvents(afterSeq: 0, limit: 10) == events)
    }

    @Test func noColumnCanHoldALinkCodeOrKey() async throws {
        let opened = try await open()
        defer { opened.directory.remove() }
        let queue = try DatabaseQueue(path: opened.path)
        let columns = try await queue.read { db in
            try ["deliveries", "idempotency_records", "audit_events"].flatMap { table in
                try db.columns(in: table).map(\.name)
            }
        }
        #expect(columns.count > 40)
        for forbidden in ["link", "url", "code", "token", "secret", "password", "api_key"] {
            #expect(!columns.contains { $0 == forbidden || $0.hasPrefix(forbidden + "_") && $0 != "api_key_id" })
        }
    }
}
