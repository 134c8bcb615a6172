/// Why an audit key (HMAC or signing) could not be read, parsed or created. Never contains key material.
public enum AuditKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The key has fewer than ``AuditKey/minimumByteCount`` bytes.
    case tooShort(byteCount: Int)
    /// A signing key file does not hold exactly the 32 bytes of an Ed25519 private key.
    case wrongSigningKeyLength(byteCount: Int)
    /// Key text is neither hex (64+ digits) nor base64.
    case notHexOrBase64
    /// The key file exists but could not be read.
    case unreadable(path: String, reason: String)
    /// The key file (or its directory) could not be created.
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .tooShort(let count):
            "audit key has \(count) bytes; at least \(AuditKey.minimumByteCount) are required"
        case .wrongSigningKeyLength(let count):
            "signing key has \(count) bytes; an Ed25519 private key has exactly 32"
        case .notHexOrBase64:
            "audit key text is neither hex (at least 64 digits) nor base64"
        case .unreadable(let path, let reason):
            "cannot read key file \(path): \(reason)"
        case .unwritable(let path, let reason):
            "cannot create key file \(path): \(reason)"
        }
    }
}
