import Audit
import Foundation

/// What accepting a request needs of the store, and no more: the record stored for an earlier
/// request with the same key (with the delivery it queued, to answer it again), the one
/// transaction that stores a new delivery, and the audit event of a refusal. Every ``GatewayStore`` is one;
/// the intake asks only this of it, so a test can give it a store that fails.
public protocol AcceptStore: Sendable {
    /// The unexpired record stored for `key` of `apiKeyID`, if any, with its delivery: lets a
    /// retried request be answered before any other work (even while Kratos is down). `accept`
    /// checks again.
    func idempotentAnswer(apiKeyID: String, key: String, now: Date) async throws(StoreError) -> IdempotentAnswer?

    /// In one transaction: idempotency lookup, cooldown, insert the delivery (`queued`), the
    /// idempotency record and the sealed `email.requested` event. Refusals write nothing.
    func accept(_ new: NewDelivery) async throws(StoreError) -> AcceptResult

    /// When the latest delivery to `identityID` and `recipient` (case-insensitive) was created
    /// after `since`, if one was: what a batch's dry run reads to report a cooldown. Writes nothing.
    func latestDelivery(identityID: UUID, recipient: String, since: Date) async throws(StoreError) -> Date?

    /// Appends an event that changes no delivery (e.g. `email.refused`).
    func appendAudit(_ draft: AuditDraft) async throws(StoreError) -> AuditEvent
}
