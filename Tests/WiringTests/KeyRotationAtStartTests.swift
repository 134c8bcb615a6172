import Audit
import Foundation
import SQLiteStore
import Store
import Testing
import Wiring

/// The rotation start-up appends (``GatewayRuntime/rotateAuditKeyIfNeeded(of:chain:)``), on a real
/// SQLite file shared by several stores as replicas would share a database.
@Suite struct KeyRotationAtStartTests {
    @Test func replicasStartingWithTheNewKeyAtOnceWriteOneRotation() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rotation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("gateway.sqlite").path
        let (old, new) = (AuditKey.random(), AuditKey.random())
        let before = try SQLiteStore(path: path, chain: AuditChain(key: old))
        try await before.migrate()
        #expect(try await GatewayRuntime.rotateAuditKeyIfNeeded(of: before, chain: AuditChain(key: new)) == nil)
        for _ in 0..<2 {
            _ = try await before.appendAudit(AuditDraft(at: Date(), actor: "backend", action: .emailRefused))
        }
        #expect(try await GatewayRuntime.rotateAuditKeyIfNeeded(of: before, chain: AuditChain(key: old)) == nil)

        let ring = AuditChain(keys: AuditKeyRing(current: new, previous: [old]))
        let replicas = try (0..<4).map { _ in try SQLiteStore(path: path, chain: ring) }
        let rotations = try await withThrowingTaskGroup(of: AuditEvent?.self) { group in
            for replica in replicas {
                group.addTask { try await GatewayRuntime.rotateAuditKeyIfNeeded(of: replica, chain: ring) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let written = rotations.compactMap { $0 }
        #expect(written.count == 1 && written.first?.seq == 3)
        #expect(written.first?.details[AuditKeyRotation.fromKeyID] == old.id)
        let events = try await replicas[0].auditEvents(afterSeq: 0, limit: 10)
        #expect(events.map(\.keyID) == [old.id, old.id, new.id])
        #expect(try await replicas[1].verifyAudit(chain: ring) == .ok(events: 3, head: events[2].hash))
        #expect(try await GatewayRuntime.rotateAuditKeyIfNeeded(of: replicas[2], chain: ring) == nil)
    }
}
