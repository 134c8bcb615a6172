import Crypto
import Foundation
import KeyFile

/// The secret key of the audit chain's HMACs: at least 32 bytes, kept outside the database.
public struct AuditKey: Sendable, Equatable, CustomStringConvertible {
    /// The shortest key accepted, in bytes (the output size of SHA-256).
    public static let minimumByteCount = 32

    /// Kept as bytes: swift-crypto's `SymmetricKey` is not `Sendable` on Linux.
    private let bytes: [UInt8]

    /// The key's name in the events it seals (their `key_id`): the first 16 hex digits of
    /// HMAC-SHA256(key, `recovery-gateway audit key id v1`). It names the key without being a plain
    /// hash of it that could be matched against anything else; it is never the key.
    public let id: String

    var symmetricKey: SymmetricKey { SymmetricKey(data: bytes) }

    /// A key from raw bytes; throws when there are fewer than ``minimumByteCount``.
    public init(bytes: some Collection<UInt8>) throws(AuditKeyError) {
        guard bytes.count >= Self.minimumByteCount else {
            throw .tooShort(byteCount: bytes.count)
        }
        self.bytes = Array(bytes)
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("recovery-gateway audit key id v1".utf8),
            using: SymmetricKey(data: self.bytes)
        )
        id = String(Hex.encode(mac).prefix(16))
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
        let bytes: [UInt8]
        do {
            bytes = try KeyFile.read(file: file)
        } catch {
            guard case .unreadable(let path, let reason) = error else {
                throw .unreadable(path: file.path, reason: "\(error)")
            }
            throw .unreadable(path: path, reason: reason)
        }
        return try AuditKey(bytes: bytes)
    }

    /// Reads the key file, or creates it with 32 random bytes, mode 0600, creating its parent
    /// directory, when it does not exist (``KeyFile/createIfAbsent(file:byteCount:)``).
    public static func loadOrCreate(file: URL) throws(AuditKeyError) -> AuditKey {
        let created: [UInt8]?
        do {
            created = try KeyFile.createIfAbsent(file: file, byteCount: minimumByteCount)
        } catch {
            guard case .unwritable(_, let reason) = error else {
                throw .unwritable(path: file.path, reason: error.description)
            }
            throw .unwritable(path: file.path, reason: reason)
        }
        guard let created else { return try load(file: file) }
        return try AuditKey(bytes: created)
    }

    /// Never shows the key bytes.
    public var description: String {
        "AuditKey(id \(id), \(bytes.count) bytes, redacted)"
    }

    private static func decodeHex(_ text: String) -> [UInt8]? {
        guard text.utf8.count >= 2 * minimumByteCount else { return nil }
        return Hex.decode(text)
    }
}
