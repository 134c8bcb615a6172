import Audit

/// The result of checking the audit chain, as the API and the CLI report it:
/// `{"ok": true, "events": N, "head": "<hash>"}` or `{"ok": false, "first_broken_seq": N, "reason": "…"}`.
/// The online verify adds `resumed_after` (the seq it resumed after: what it had verified before)
/// and `unsequenced` (events written but not linked into the chain yet); an unsequenced event that
/// does not verify makes `ok` false with no `first_broken_seq` and a reason naming its intake position.
public struct AuditVerificationView: Sendable, Codable, Equatable, APIJSONEncodable {
    public var ok: Bool
    public var events: Int?
    public var head: String?
    public var firstBrokenSeq: Int64?
    public var reason: String?
    public var resumedAfter: Int64?
    public var unsequenced: Int?

    enum CodingKeys: String, CodingKey {
        case ok, events, head, reason, unsequenced
        case firstBrokenSeq = "first_broken_seq"
        case resumedAfter = "resumed_after"
    }

    public init(_ result: AuditVerification) {
        switch result {
        case .ok(let events, let head):
            ok = true
            self.events = events
            self.head = head
        case .broken(let seq, let reason):
            ok = false
            firstBrokenSeq = seq
            self.reason = reason.description
        }
    }

}
