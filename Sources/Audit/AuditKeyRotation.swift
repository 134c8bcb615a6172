import Foundation

/// The `audit.key_rotated` event, which moves the chain from one audit key to the next.
///
/// Its details name both keys (`from_key_id`, `to_key_id`) and hold `old_key_mac`: the HMAC under
/// the old key of what the event's own hash covers, with `old_key_mac` left out, which proves that a
/// holder of the old key agreed. The event itself (its `hash`, its `key_id`) is sealed under the new
/// key (``AuditChain/seal(_:seq:id:prevHash:)``); every event after it must be too.
public enum AuditKeyRotation {
    /// The detail naming the key the chain moves from.
    public static let fromKeyID = "from_key_id"
    /// The detail naming the key the chain moves to (the event's own `key_id`).
    public static let toKeyID = "to_key_id"
    /// The detail holding the old key's HMAC.
    public static let oldKeyMAC = "old_key_mac"

    /// The draft of a rotation away from the key `keyID`; sealing it fills in the rest.
    public static func draft(from keyID: String, at: Date) -> AuditDraft {
        AuditDraft(at: at, actor: "system", action: .auditKeyRotated, details: [fromKeyID: keyID])
    }
}
