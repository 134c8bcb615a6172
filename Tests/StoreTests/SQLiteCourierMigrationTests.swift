import Audit
import Foundation
import GRDB
import Store
import Testing

@testable import SQLiteStore

/// `v4_kratos_courier` rebuilds SQLite's `deliveries`: what a v3 database held comes through whole,
/// as `admin_api` rows, with the idempotency records that point at them.
@Suite struct SQLiteCourierMigrationTests {
    @Test func aVersion3DatabaseKeepsItsDeliveriesAndTheirIdempotencyRecords() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("gateway.sqlite")
        let chain = AuditChain(key: AuditKey.random())
        let id = UUID()
        let queue = try DatabaseQueue(path: path)
        try SQLiteSchema.migrator.migrate(queue, upTo: "v3_audit_events")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO deliveries (id, status, identity_id, recipient, method, template, locale, expires_in,
                        deadline_us, reason, message_id, actor, api_key_id, idempotency_key, attempts,
                        next_attempt_at_us, created_at_us)
                    VALUES (?, 'queued', 'a251ebc2-880c-4f76-a8f3-38e6940eab0e', 'john.doe@example.com', 'code',
                        'recovery_code', 'de', '1h', 1750003600000000, 'ticket', '<m@gateway.example>', 'backend',
                        'backend', 'k-1', 0, 1750000000000000, 1750000000000000);
                    INSERT INTO idempotency_records VALUES ('backend', 'k-1', 'hash', 202, x'7b7d', ?, 1750086400000000);
                    """,
                arguments: [id.uuidString.lowercased(), id.uuidString.lowercased()]
            )
        }
        try queue.close()

        let store = try SQLiteStore(path: path, chain: chain)
        try await store.migrate()
        let record = try #require(try await store.delivery(id: id))
        #expect(record.source == .adminAPI && record.templateType == nil && record.sealedPayload == nil)
        #expect(record.identityID == UUID(uuidString: "a251ebc2-880c-4f76-a8f3-38e6940eab0e"))
        #expect(record.method == .code && record.template == "recovery_code" && record.locale == "de")
        #expect(record.recipient == "john.doe@example.com" && record.messageID == "<m@gateway.example>")
        #expect(record.deadline == Fixtures.t0.addingTimeInterval(3_600) && record.createdAt == Fixtures.t0)
        let answer = try await store.idempotentAnswer(apiKeyID: "backend", key: "k-1", now: Fixtures.t0)
        #expect(answer?.deliveryID == id)
        // The rebuilt table takes courier rows and is leased as before.
        #expect(try await store.accept(CourierContractTests.courier(chain: chain)).accepted != nil)
        #expect(try await store.leaseDue(now: Fixtures.t0 + 1, limit: 10, leaseFor: 30).count == 2)

        let check = try DatabaseQueue(path: path)
        defer { try? check.close() }
        #expect(try await check.read { db in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") }.isEmpty)
        let indexes = try await check.read { db in
            try String.fetchAll(
                db,
                sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries'"
            )
        }
        #expect(
            Set(indexes.filter { !$0.hasPrefix("sqlite_") }) == [
                "deliveries_due", "deliveries_lease", "deliveries_cooldown", "deliveries_newest",
                "deliveries_source_type",
            ]
        )
    }
}
