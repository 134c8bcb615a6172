/// Why an audit key could not be read, parsed or created. Never contains key material.
public enum AuditKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The key has fewer than ``AuditKey/minimumByteCount`` bytes.
    case tooShort(byteCount: Int)
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
        case .notHexOrBase64:
            "audit key text is neither hex (at least 64 digits) nor base64"
        case .unreadable(let path, let reason):
            "cannot read audit key file \(path): \(reason)"
        case .unwritable(let path, let reason):
            "cannot create audit key file \(path): \(reason)"
        }
    }
}
