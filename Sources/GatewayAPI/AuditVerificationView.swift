import Audit

/// The result of checking the audit chain, as the API and the CLI report it:
/// `{"ok": true, "events": N, "head": "<hash>"}` or `{"ok": false, "first_broken_seq": N, "reason": "…"}`.
public struct AuditVerificationView: Sendable, Codable, Equatable, APIJSONEncodable {
    public var ok: Bool
    public var events: Int?
    public var head: String?
    public var firstBrokenSeq: Int64?
    public var reason: String?

    enum CodingKeys: String, CodingKey {
        case ok, events, head, reason
        case firstBrokenSeq = "first_broken_seq"
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
