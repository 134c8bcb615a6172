/// The audit keys a gateway holds: the current one, which seals every new event, and earlier ones,
/// which only verify the events they sealed before a rotation (``AuditKeyRotation``).
public struct AuditKeyRing: Sendable {
    /// The key that seals.
    public let current: AuditKey
    /// Keys retired by a rotation, still needed to verify the events they sealed.
    public let previous: [AuditKey]

    public init(current: AuditKey, previous: [AuditKey] = []) {
        self.current = current
        self.previous = previous
    }

    /// The key whose ``AuditKey/id`` is `id`, if held.
    public func key(id: String) -> AuditKey? {
        current.id == id ? current : previous.first { $0.id == id }
    }

    /// Every key held, the current one first.
    var all: [AuditKey] { [current] + previous }
}
