import Crypto

/// A keyless running digest of the audit log that anyone holding an export can recompute:
/// d₀ = 32 zero bytes, dₙ = SHA-256(dₙ₋₁ ‖ canonical(eventₙ) ‖ hashₙ), where canonical is the
/// encoding the event's HMAC covers (``AuditCanonicalEncoding``) and hashₙ the event's hex hash
/// as UTF-8. A checkpoint signs dₙ, so it covers the content of every event up to seq n.
public struct AuditDigest: Sendable, Hashable {
    /// The current 32 bytes.
    public private(set) var bytes = [UInt8](repeating: 0, count: 32)

    public init() {}

    /// The digest a checkpoint states (64 lower-case hex digits); `nil` for any other text.
    public init?(hex: String) {
        guard let bytes = Hex.decode(hex, allowingUpperCase: false), bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// Moves the digest past `event`.
    public mutating func add(_ event: AuditEvent) {
        var hasher = SHA256()
        hasher.update(data: bytes)
        hasher.update(data: AuditCanonicalEncoding.encode(event))
        hasher.update(data: Array(event.hash.utf8))
        bytes = Array(hasher.finalize())
    }

    /// Lower-case hex of the digest.
    public var hex: String { Hex.encode(bytes) }
}
