import Crypto
import Foundation

/// Seals audit drafts into HMAC-chained events and hashes recipients under the audit key.
public struct AuditChain: Sendable {
    let key: AuditKey

    public init(key: AuditKey) {
        self.key = key
    }

    /// The event `draft` becomes at position `seq` after the event whose hash is `prevHash`.
    /// `at` is truncated to whole microseconds, the precision the hash covers.
    public func seal(_ draft: AuditDraft, seq: Int64, id: UUID = UUID(), prevHash: String) -> AuditEvent {
        var truncated = draft
        truncated.at = AuditTime.truncated(draft.at)
        var event = AuditEvent(seq: seq, id: id, draft: truncated, prevHash: prevHash, hash: "")
        event.hash = hash(of: event)
        return event
    }

    /// HMAC-SHA256(key, prevHash ‖ canonical(event)) in lower-case hex; ignores `event.hash`.
    public func hash(of event: AuditEvent) -> String {
        var mac = HMAC<SHA256>(key: key.symmetricKey)
        mac.update(data: Array(event.prevHash.utf8))
        mac.update(data: AuditCanonicalEncoding.encode(event))
        return Hex.encode(mac.finalize())
    }

    /// HMAC-SHA256 of the lower-cased address under the audit key, hex: lets compliance find
    /// every event for one address without the log holding it in clear.
    public func recipientHash(_ address: String) -> String {
        let normalized = address.trimmingCharacters(in: .whitespaces).lowercased()
        return Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(normalized.utf8), using: key.symmetricKey))
    }

    /// A streaming verifier for this chain's key.
    public func verifier() -> AuditVerifier {
        AuditVerifier(chain: self)
    }

    /// A streaming verifier of the log's tail: the events from `seq + 1` on, trusting that the event
    /// at `seq` (not checked) has the hash `prevHash`; each event's HMAC and every link after it are checked.
    public func verifier(after seq: Int64, prevHash: String) -> AuditVerifier {
        AuditVerifier(chain: self, link: AuditLink(after: seq, head: prevHash))
    }

    /// Checks a whole sequence of events (in seq order) at once.
    public func verify(_ events: some Sequence<AuditEvent>) -> AuditVerification {
        var verifier = verifier()
        for event in events where !verifier.feed(event) {
            break
        }
        return verifier.result
    }

    /// `john.doe@example.com` → `j***@e***.com`: first letter of the local part and of the
    /// domain, and the top-level domain.
    public static func mask(_ address: String) -> String {
        let trimmed = address.trimmingCharacters(in: .whitespaces)
        guard let at = trimmed.lastIndex(of: "@") else {
            return trimmed.first.map { "\($0)***" } ?? "***"
        }
        let local = trimmed[..<at]
        let domain = trimmed[trimmed.index(after: at)...]
        let maskedLocal = local.first.map { "\($0)***" } ?? "***"
        var maskedDomain = domain.first.map { "\($0)***" } ?? "***"
        if let dot = domain.lastIndex(of: "."), dot != domain.startIndex {
            maskedDomain += String(domain[dot...])
        }
        return "\(maskedLocal)@\(maskedDomain)"
    }

    /// `text` with every email address in it masked (``mask(_:)``): for free text bound for the
    /// audit log or a log line, such as a server's `550 <jane@example.com>: unknown user` or a
    /// support agent's reason.
    public static func maskingAddresses(in text: String) -> String {
        guard text.contains("@") else { return text }
        // A regex literal is built at compile time; Regex is not Sendable, so it is not kept in a static.
        return text.replacing(#/[^\s<>()\[\]@,;:"']+@[^\s<>()\[\]@,;:"']+/#) { match in mask(String(match.output)) }
    }
}
