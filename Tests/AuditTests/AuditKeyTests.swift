import Audit
import Foundation
import Testing

@Suite struct AuditKeyTests {
    @Test func createsA32ByteKeyFileWithMode0600AndReadsItBack() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("audit-key-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("nested/audit.key")

        let created = try AuditKey.loadOrCreate(file: file)
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try Data(contentsOf: file).count == 32)

        let loaded = try AuditKey.loadOrCreate(file: file)
        let draft = AuditDraft(at: Date(), actor: "system", action: .emailSent)
        let id = UUID()
        let sealedWithCreated = AuditChain(key: created).seal(draft, seq: 1, id: id, prevHash: AuditEvent.genesisHash)
        let sealedWithLoaded = AuditChain(key: loaded).seal(draft, seq: 1, id: id, prevHash: AuditEvent.genesisHash)
        #expect(sealedWithCreated.hash == sealedWithLoaded.hash)
        #expect(AuditChain(key: AuditKey.random()).verify([sealedWithCreated]).isOK == false)
    }

    @Test func refusesAShortKeyFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("short-\(UUID().uuidString).key")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(repeating: 7, count: 16).write(to: file)
        #expect(throws: AuditKeyError.tooShort(byteCount: 16)) { try AuditKey.loadOrCreate(file: file) }
    }

    @Test func parsesHexAndBase64TextToTheSameKey() throws {
        let bytes = (0..<32).map { UInt8($0 * 7 % 256) }
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let base64 = Data(bytes).base64EncodedString()
        let fromHex = try AuditKey(text: hex.uppercased() + "\n")
        let fromBase64 = try AuditKey(text: base64)
        let fromBytes = try AuditKey(bytes: bytes)
        let chains = [fromHex, fromBase64, fromBytes].map(AuditChain.init(key:))
        let hashes = Set(chains.map { $0.recipientHash("a@example.com") })
        #expect(hashes.count == 1)
        #expect(throws: AuditKeyError.notHexOrBase64) { try AuditKey(text: "not a key!") }
        #expect(throws: AuditKeyError.tooShort(byteCount: 4)) { try AuditKey(text: "AAECAw==") }
    }

    @Test func descriptionNeverShowsTheBytes() throws {
        let bytes = [UInt8](repeating: 0xAB, count: 32)
        let key = try AuditKey(bytes: bytes)
        let shown = "\(key) \(String(reflecting: key))"
        #expect(!shown.lowercased().contains("abab"))
        #expect(!shown.contains(Data(bytes).base64EncodedString()))
        #expect(shown.contains("redacted"))
    }
}
