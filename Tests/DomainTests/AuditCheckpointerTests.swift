import Audit
import Foundation
import GatewayAPI
import Logging
import SQLiteStore
import Store
import TestSupport
import Testing

@testable import Domain

/// The checkpoint service on a real SQLite store, and its checkpoints read back from an NDJSON export.
@Suite struct AuditCheckpointerTests {
    let chain = AuditChain(key: try! AuditKey(bytes: [UInt8](repeating: 3, count: 32)))
    let key = AuditSigningKey(seed: [UInt8](repeating: 4, count: 32))
    let alarm = AuditAlarm(metrics: .disabled)

    func append(_ count: Int, to store: SQLiteStore) async throws {
        for index in 0..<count {
            _ = try await store.appendAudit(
                AuditDraft(at: Date(), actor: "backend", action: .emailRefused, details: ["reason": "test \(index)"])
            )
        }
    }

    /// A migrated SQLite store in `directory` and a checkpointer on it (interval 60 s).
    func checkpointing(in directory: URL, everyEvents: Int) async throws -> (SQLiteStore, AuditCheckpointer) {
        let store = try SQLiteStore(path: directory.appendingPathComponent("gateway.sqlite").path, chain: chain)
        try await store.migrate()
        let checkpointer = AuditCheckpointer(
            store: store,
            key: key,
            chain: chain,
            alarm: alarm,
            everyEvents: everyEvents,
            interval: .seconds(60),
            logger: Logger(label: "test")
        )
        return (store, checkpointer)
    }

    func export(_ store: SQLiteStore) async throws -> Data {
        let events = try await store.auditEvents(afterSeq: 0, limit: 10_000)
        return Data(events.map(AuditExportFormat.ndjson.line).joined().utf8)
    }

    @Test func writesACheckpointEveryNEventsOrAfterTheIntervalAndOnlyWhenEventsCame() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (store, checkpointer) = try await checkpointing(in: directory, everyEvents: 5)
        var state = AuditCheckpointer.State(chain: chain)
        let start = Date()

        try await append(4, to: store)
        try await checkpointer.step(&state, now: start)
        #expect(try await store.auditHead() == 4, "4 events are fewer than 5 and the interval has not passed")

        try await append(1, to: store)
        try await checkpointer.step(&state, now: start)
        #expect(try await store.auditHead() == 6, "the fifth event makes a checkpoint (seq 6)")

        try await checkpointer.step(&state, now: start.addingTimeInterval(120))
        #expect(try await store.auditHead() == 6, "no event since the checkpoint: none more, however long")

        try await append(2, to: store)
        try await checkpointer.step(&state, now: start.addingTimeInterval(30))
        #expect(try await store.auditHead() == 8)
        try await checkpointer.step(&state, now: start.addingTimeInterval(61))
        #expect(try await store.auditHead() == 9, "the interval passed with 2 new events")

        // A second replica's checkpointer, starting from the log as it is, writes the next one; the
        // first then counts it as a checkpoint and writes none of its own.
        try await append(1, to: store)
        var replica = AuditCheckpointer.State(chain: chain)
        try await checkpointer.step(&replica, now: Date().addingTimeInterval(61))
        try await checkpointer.step(&state, now: start.addingTimeInterval(200))
        #expect(try await store.auditHead() == 11)

        let report = try AuditExportCheck.verify(ndjson: try await export(store), publicKeys: [key.publicKey])
        #expect(report.broken == nil)
        #expect(report.checkpoints == 3)
        #expect(report.lastCheckpoint?.eventSeq == 11)
        #expect(report.lastCheckpoint?.checkpoint.seq == 10)
        #expect(report.unsignedTail == 1)
        #expect(chain.verify(try await store.auditEvents(afterSeq: 0, limit: 100)).isOK)
    }

    /// Two replicas: one reads the log up to seq 2 and signs it, but another replica's event (seq 3)
    /// lands before that checkpoint does (seq 4). The checkpoint covers seq 2 only, so seq 3 is
    /// still unsigned and gets a checkpoint of its own once the interval has passed.
    @Test func anEventThatLandsBeforeACheckpointCoveringLessIsCheckpointedLater() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (store, checkpointer) = try await checkpointing(in: directory, everyEvents: 100)
        // The state first: its clock starts when it is made, and every time below is after that.
        var state = AuditCheckpointer.State(chain: chain)
        let start = Date()
        try await append(2, to: store)
        let events = try await store.auditEvents(afterSeq: 0, limit: 10)
        var digest = AuditDigest()
        for event in events { digest.add(event) }
        let late = AuditCheckpoint(seq: 2, digest: digest, head: events[1].hash, at: start, key: key)
        try await append(1, to: store)
        _ = try await store.appendAudit(
            AuditDraft(at: start, actor: "system", action: .auditCheckpoint, details: late.details)
        )

        try await checkpointer.step(&state, now: start.addingTimeInterval(30))
        #expect(try await store.auditHead() == 4, "the interval since the late checkpoint has not passed")
        try await checkpointer.step(&state, now: start.addingTimeInterval(61))
        #expect(try await store.auditHead() == 5, "seq 3 was not covered: a checkpoint follows")

        let report = try AuditExportCheck.verify(ndjson: try await export(store), publicKeys: [key.publicKey])
        #expect(report.broken == nil)
        #expect(report.lastCheckpoint?.checkpoint.seq == 4)
    }

    @Test func aRestartResumesFromTheNewestCheckpointOfItsKeyInsteadOfSeqOne() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (store, checkpointer) = try await checkpointing(in: directory, everyEvents: 5)
        #expect(try await checkpointer.resume().seq == 0, "no checkpoint yet: from seq 1")
        var first = AuditCheckpointer.State(chain: chain)
        try await append(7, to: store)
        try await checkpointer.step(&first, now: Date())
        try await append(2, to: store)
        #expect(try await store.auditHead() == 10, "a checkpoint at seq 8 covering 7")

        var resumed = try await checkpointer.resume()
        let seventh = try await store.auditEvents(afterSeq: 6, limit: 1)[0]
        #expect(resumed.seq == 7 && resumed.head == seventh.hash)
        var fresh = AuditCheckpointer.State(chain: chain)
        let now = Date()
        try await checkpointer.step(&resumed, now: now)
        try await checkpointer.step(&fresh, now: now)
        #expect(resumed.seq == fresh.seq && resumed.head == fresh.head && resumed.digest == fresh.digest)
        #expect(resumed.uncovered == fresh.uncovered && resumed.uncovered == [9, 10])

        // Another key's checkpoint (the signing key was changed) is not taken on trust: from seq 1.
        let other = AuditCheckpointer(
            store: store,
            key: AuditSigningKey(seed: [UInt8](repeating: 5, count: 32)),
            chain: chain,
            alarm: alarm,
            everyEvents: 5,
            interval: .seconds(60),
            logger: Logger(label: "test")
        )
        #expect(try await other.resume().seq == 0)
    }

    /// Issue 23: with the append-only triggers dropped, an event rewritten in the database after a
    /// checkpoint is not folded into the next one: the checkpointer stops before it, signs only
    /// what comes before, and raises the alarm naming its seq.
    @Test func aRewrittenEventIsNeverSignedAndRaisesTheAlarm() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (store, checkpointer) = try await checkpointing(in: directory, everyEvents: 3)
        var state = AuditCheckpointer.State(chain: chain)
        try await append(3, to: store)
        try await checkpointer.step(&state, now: Date())
        #expect(try await store.auditHead() == 4, "a checkpoint at seq 4 covering 1-3")
        try await append(3, to: store)
        let path = directory.appendingPathComponent("gateway.sqlite").path
        try runSQLite(
            path,
            "DROP TRIGGER audit_events_no_update; UPDATE audit_events SET actor = 'mallory' WHERE seq = 6;"
        )

        try await checkpointer.step(&state, now: Date().addingTimeInterval(120))
        #expect(state.stopped)
        #expect(state.seq == 5, "folded up to the event before the rewritten one")
        #expect(alarm.broken?.seq == 6)
        let checkpoints = try await store.auditEvents(afterSeq: 0, limit: 100).filter { $0.action == .auditCheckpoint }
        let covered = try checkpoints.map { try AuditCheckpoint(details: $0.details).seq }
        #expect(covered.allSatisfy { $0 < 6 }, "no checkpoint covers the rewritten seq 6: \(covered)")
        let report = try AuditExportCheck.verify(ndjson: try await export(store), publicKeys: [key.publicKey])
        #expect(report.lastCheckpoint.map { $0.checkpoint.seq < 6 } ?? true)
    }
}

/// Runs `sql` on the SQLite file at `path` with the sqlite3 shell (what an intruder with the file would do).
func runSQLite(_ path: String, _ sql: String) throws {
    // sqlite3 ends by itself at once: waiting here holds the thread for a moment only.
    let status = try ChildProcess("/usr/bin/env", ["sqlite3", path, sql], error: STDERR_FILENO).wait()
    #expect(status == 0)
}
