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
        try AuditKey(bytes: KeyFile.read(file))
    }

    /// Reads the key file, or creates it with 32 random bytes, mode 0600, creating its parent
    /// directory, when it does not exist.
    public static func loadOrCreate(file: URL) throws(AuditKeyError) -> AuditKey {
        try AuditKey(bytes: KeyFile.readOrCreate(file) { random().bytes })
    }

    /// Never shows the key bytes.
    public var description: String {
        "AuditKey(\(bytes.count) bytes, redacted)"
    }

    private static func decodeHex(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count >= 2 * minimumByteCount, digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
