import Audit

/// The check every store's append makes on the head it has just read, in the same transaction:
/// a gateway appends only after an event sealed by its own current key (or one that names no key),
/// except for the rotation away from the head's key. This closes the race of two gateways with
/// different keys starting at once on an empty log, which no start-up check can see.
package enum AuditHeadRule {
    /// Throws `auditKeyMismatch` unless `draft` may follow the head event `headSeq` sealed by `headKeyID`.
    package static func check(
        _ draft: AuditDraft,
        headSeq: Int64,
        headKeyID: String?,
        chain: AuditChain
    ) throws(StoreError) {
        guard let headKeyID else { return }
        let rotation = draft.action == .auditKeyRotated
        let allowed = rotation ? draft.details[AuditKeyRotation.fromKeyID] == headKeyID : headKeyID == chain.keyID
        guard allowed else { throw .auditKeyMismatch(seq: headSeq, keyID: headKeyID, current: chain.keyID) }
    }
}
