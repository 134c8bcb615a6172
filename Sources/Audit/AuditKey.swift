import Crypto
import Foundation

/// The secret key of the audit chain's HMACs: at least 32 bytes, kept outside the database.
public struct AuditKey: Sendable, Equatable, CustomStringConvertible {
    /// The shortest key accepted, in bytes (the output size of SHA-256).
    public static let minimumByteCount = 32

    /// Kept as bytes: swift-crypto's `SymmetricKey` is not `Sendable` on Linux.
    private let bytes: [UInt8]

    var symmetricKey: SymmetricKey { SymmetricKey(data: bytes) }

    /// A key from raw bytes; throws when there are fewer than ``minimumByteCount``.
    public init(bytes: some Collection<UInt8>) throws(AuditKeyError) {
        guard bytes.count >= Self.minimumByteCount else {
            throw .tooShort(byteCount: bytes.count)
        }
        self.bytes = Array(bytes)
    }

    /// A key from text, as found in an environment variable: hex (64+ digits) or base64.
    public init(text: String) throws(AuditKeyError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let bytes = Self.decodeHex(trimmed) {
            try self.init(bytes: bytes)
        } else if let data = Data(base64Encoded: trimmed) {
            try self.init(bytes: Array(data))
        } else {
            throw .notHexOrBase64
        }
    }

    /// A fresh key of 32 random bytes.
    public static func random() -> AuditKey {
        // 32 bytes always satisfy the minimum.
        try! AuditKey(bytes: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }

    /// Reads the key file: its raw bytes are the key.
    public static func load(file: URL) throws(AuditKeyError) -> AuditKey {
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw .unreadable(path: file.path, reason: String(describing: error))
        }
        return try AuditKey(bytes: Array(data))
    }

    /// Reads the key file, or creates it with 32 random bytes, mode 0600, creating its parent
    /// directory, when it does not exist.
    public static func loadOrCreate(file: URL) throws(AuditKeyError) -> AuditKey {
        let manager = FileManager.default
        if manager.fileExists(atPath: file.path) { return try load(file: file) }
        let key = AuditKey.random()
        let bytes = Data(key.bytes)
        do {
            try manager.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            // Create the file with 0600 from the start, so the key is never readable by others.
            guard manager.createFile(atPath: file.path, contents: bytes, attributes: [.posixPermissions: 0o600])
            else {
                throw CocoaError(.fileWriteUnknown)
            }
        } catch {
            throw .unwritable(path: file.path, reason: String(describing: error))
        }
        return key
    }

    /// Never shows the key bytes.
    public var description: String {
        "AuditKey(\(bytes.count) bytes, redacted)"
    }

    private static func decodeHex(_ text: String) -> [UInt8]? {
        guard text.utf8.count >= 2 * minimumByteCount else { return nil }
        return Hex.decode(text)
    }
}
