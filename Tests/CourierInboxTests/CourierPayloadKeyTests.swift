import CourierInbox
import Foundation
import KeyFile
import Testing

/// The sealed payload opens only with its key and its row; the key file is created private and checked.
@Suite struct CourierPayloadKeyTests {
    let key = CourierPayloadKey(bytes: [UInt8](repeating: 3, count: 32))!

    @Test func sealsAndOpensEveryMessage() throws {
        for type in try Fixtures.types(in: "ctx-v26.2") {
            let message = try Fixtures.message("ctx-v26.2", type)
            let sealed = key.seal(message, context: "delivery-1")
            #expect(try key.open(sealed, context: "delivery-1") == message)
            // Neither the address nor the secret can be read from the sealed bytes.
            let text = String(decoding: sealed, as: UTF8.self)
            #expect(!text.contains("lena.schmidt"))
            if let secret = message.secret { #expect(!text.contains(secret)) }
        }
    }

    @Test func eachSealIsFresh() throws {
        let message = try Fixtures.message("ctx-v26.2", "recovery_valid")
        #expect(key.seal(message, context: "d") != key.seal(message, context: "d"))
    }

    @Test func refusesAnotherRowAnotherKeyAndAlteredBytes() throws {
        let sealed = key.seal(try Fixtures.message("ctx-v26.2", "recovery_valid"), context: "delivery-1")
        #expect(throws: CourierPayloadError.authenticationFailed) { try key.open(sealed, context: "delivery-2") }
        let other = CourierPayloadKey(bytes: [UInt8](repeating: 4, count: 32))!
        #expect(throws: CourierPayloadError.authenticationFailed) { try other.open(sealed, context: "delivery-1") }
        var altered = sealed
        altered[altered.count / 2] ^= 1
        #expect(throws: CourierPayloadError.authenticationFailed) { try key.open(altered, context: "delivery-1") }
        #expect(throws: CourierPayloadError.malformed) { try key.open(sealed.prefix(20), context: "delivery-1") }
        var version = sealed
        version[0] = 2
        #expect(throws: CourierPayloadError.malformed) { try key.open(version, context: "delivery-1") }
    }

    @Test func keyOfAnotherSizeIsRefused() {
        #expect(CourierPayloadKey(bytes: [UInt8](repeating: 1, count: 31)) == nil)
        #expect(CourierPayloadKey(bytes: [UInt8](repeating: 1, count: 33)) == nil)
        #expect(!String(describing: key).contains("3"))
    }

    @Test func deduplicationKeyIsDerivedNotTheKeyItself() {
        #expect(key.deduplicationKey.count == 32)
        #expect(key.deduplicationKey != [UInt8](repeating: 3, count: 32))
        #expect(key.deduplicationKey == CourierPayloadKey(bytes: [UInt8](repeating: 3, count: 32))!.deduplicationKey)
    }

    @Test func keyFileIsCreatedPrivateOnceAndReadAgain() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("data/courier-payload.key")
        let created = try CourierPayloadKey.loadOrCreate(file: file)
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try Data(contentsOf: file).count == 32)
        let message = try Fixtures.message("ctx-v26.2", "recovery_valid")
        let loaded = try CourierPayloadKey.loadOrCreate(file: file)
        #expect(try loaded.open(created.seal(message, context: "c"), context: "c") == message)
        // A second creation does not replace the key.
        #expect(try KeyFile.createIfAbsent(file: file, byteCount: 32) == nil)
    }

    @Test func keyFileOfAnotherSizeOrLooseModeIsRefused() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let short = directory.appendingPathComponent("short.key")
        FileManager.default.createFile(
            atPath: short.path,
            contents: Data(count: 16),
            attributes: [.posixPermissions: 0o600]
        )
        #expect(throws: KeyFileError.wrongSize(path: short.path, byteCount: 16, expected: 32)) {
            try CourierPayloadKey.loadOrCreate(file: short)
        }
        let loose = directory.appendingPathComponent("loose.key")
        FileManager.default.createFile(
            atPath: loose.path,
            contents: Data(count: 32),
            attributes: [.posixPermissions: 0o644]
        )
        let error = try #require(throws: KeyFileError.self) { try CourierPayloadKey.loadOrCreate(file: loose) }
        #expect(error == .looseMode(path: loose.path, mode: 0o644))
        #expect(error.description.contains("644") && error.description.contains("chmod 600"))
    }

    @Test func aSymlinkIsJudgedByItsTarget() throws {
        // Kubernetes mounts a Secret's file as a symlink (mode 0777) to the real file.
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = directory.appendingPathComponent("..data-key")
        #expect(
            FileManager.default.createFile(
                atPath: target.path,
                contents: Data(count: 32),
                attributes: [.posixPermissions: 0o400]
            )
        )
        let link = directory.appendingPathComponent("courier.key")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        #expect(try KeyFile.readPrivate(file: link, byteCount: 32) == [UInt8](repeating: 0, count: 32))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: target.path)
        #expect(throws: KeyFileError.looseMode(path: link.path, mode: 0o644)) {
            try KeyFile.readPrivate(file: link, byteCount: 32)
        }
    }

    @Test func unwritableKeyFileNamesThePath() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let blocker = directory.appendingPathComponent("file")
        #expect(FileManager.default.createFile(atPath: blocker.path, contents: Data()))
        let file = blocker.appendingPathComponent("courier.key")
        let error = try #require(throws: KeyFileError.self) { try CourierPayloadKey.loadOrCreate(file: file) }
        #expect(error.description.contains(file.path))
    }
}
