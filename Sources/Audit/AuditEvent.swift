import Foundation

/// One sealed entry of the audit log: a draft plus its place in the HMAC chain. The draft's
/// fields read as the event's own (`event.actor`, `event.action`, …).
@dynamicMemberLookup
public struct AuditEvent: Sendable, Hashable {
    /// The 64-zero `prevHash` of the first event.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// 1-based, gapless position in the log.
    public var seq: Int64
    public var id: UUID
    /// What happened, as the caller described it; its `at` is truncated to whole microseconds.
    public var draft: AuditDraft
    /// The previous event's `hash` (``genesisHash`` for the first event).
    public var prevHash: String
    /// HMAC-SHA256(key, prevHash ‖ canonical encoding of every other field), hex.
    public var hash: String
    /// ``AuditKey/id`` of the key that sealed the event; `nil` for an event sealed before events
    /// named their key (canonical encoding version 1, ``AuditCanonicalEncoding``).
    public var keyID: String?

    public init(seq: Int64, id: UUID, draft: AuditDraft, prevHash: String, hash: String, keyID: String? = nil) {
        self.seq = seq
        self.id = id
        self.draft = draft
        self.prevHash = prevHash
        self.hash = hash
        self.keyID = keyID
    }

    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<AuditDraft, Value>) -> Value {
        get { draft[keyPath: keyPath] }
        set { draft[keyPath: keyPath] = newValue }
    }

    /// Microseconds since 1970 of `at`: the exact value that is hashed and stored.
    public var atMicroseconds: Int64 { AuditTime.microseconds(draft.at) }
}
