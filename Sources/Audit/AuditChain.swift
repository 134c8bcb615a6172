import Crypto
import Foundation

/// Seals audit drafts into HMAC-chained events under the current key of its ``AuditKeyRing``,
/// verifies each event with the key it names, and hashes recipients under the current key.
public struct AuditChain: Sendable {
    /// The keys: the current one seals, every one verifies the events it sealed.
    public let keys: AuditKeyRing

    public init(keys: AuditKeyRing) {
        self.keys = keys
    }

    /// A chain with one key.
    public init(key: AuditKey) {
        self.init(keys: AuditKeyRing(current: key))
    }

    /// ``AuditKey/id`` of the current key: the `key_id` of every event this chain seals.
    public var keyID: String { keys.current.id }

    var key: AuditKey { keys.current }

    /// The event `draft` becomes at position `seq` after the event whose hash is `prevHash`, sealed
    /// under the current key. `at` is truncated to whole microseconds, the precision the hash covers.
    /// A rotation draft (``AuditKeyRotation/draft(from:at:)``) from a key held gets `to_key_id` and
    /// the old key's `old_key_mac` as well.
    public func seal(_ draft: AuditDraft, seq: Int64, id: UUID = UUID(), prevHash: String) -> AuditEvent {
        var truncated = draft
        truncated.at = AuditTime.truncated(draft.at)
        var event = AuditEvent(seq: seq, id: id, draft: truncated, prevHash: prevHash, hash: "", keyID: keyID)
        if event.action == .auditKeyRotated, let from = event.details[AuditKeyRotation.fromKeyID],
            let old = keys.key(id: from)
        {
            event.details[AuditKeyRotation.toKeyID] = keyID
            event.details[AuditKeyRotation.oldKeyMAC] = Self.mac(of: event, key: old)
        }
        event.hash = Self.mac(of: event, key: key)
        return event
    }

    /// `draft` as a request's transaction writes it where a sequencer links it later
    /// (`audit_intake`): sealed under the current key with its own HMAC, but at seq 0 after the
    /// empty hash, a position no chained event has, so it can never pass for one.
    public func sealUnlinked(_ draft: AuditDraft, id: UUID = UUID()) -> AuditEvent {
        seal(draft, seq: 0, id: id, prevHash: "")
    }

    /// What an event from ``sealUnlinked(_:id:)`` proves once read back: that a held key sealed it
    /// as it is (`nil`), or why not.
    public func unlinkedProblem(_ event: AuditEvent) -> AuditUnlinkedProblem? {
        guard event.seq == 0, event.prevHash.isEmpty, let keyID = event.keyID else { return .notUnlinked }
        guard let key = keys.key(id: keyID) else { return .unknownKey(keyID) }
        return Self.isMAC(event.hash, of: event, key: key) ? nil : .hashMismatch
    }

    /// HMAC-SHA256(key, prevHash ‖ canonical(event)) in lower-case hex; ignores `event.hash`.
    static func mac(of event: AuditEvent, key: AuditKey) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: macInput(of: event), using: key.symmetricKey))
    }

    /// Whether `hex` is ``mac(of:key:)`` of `event`, compared in constant time (swift-crypto's
    /// check), so that how long a refusal takes says nothing about how much of a forged MAC was right.
    static func isMAC(_ hex: String, of event: AuditEvent, key: AuditKey) -> Bool {
        guard let code = Hex.decode(hex, allowingUpperCase: false) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            code,
            authenticating: macInput(of: event),
            using: key.symmetricKey
        )
    }

    /// What the MAC covers: prevHash ‖ canonical(event).
    private static func macInput(of event: AuditEvent) -> [UInt8] {
        var input = Array(event.prevHash.utf8)
        AuditCanonicalEncoding.encode(event, into: &input)
        return input
    }

    /// The held key that sealed `event`: the one its `key_id` names, or for an event that names
    /// none (version 1) the one whose HMAC matches, `preferred` tried first; `nil` when none did.
    func sealingKey(of event: AuditEvent, preferred: String? = nil) -> AuditKey? {
        if let id = event.keyID {
            return keys.key(id: id).flatMap { Self.isMAC(event.hash, of: event, key: $0) ? $0 : nil }
        }
        let first = preferred.flatMap { keys.key(id: $0) }
        return ([first].compactMap { $0 } + keys.all).first { Self.isMAC(event.hash, of: event, key: $0) }
    }

    /// ``AuditKey/id`` of the held key that sealed `event` (see ``sealingKey(of:preferred:)``).
    public func sealingKeyID(of event: AuditEvent) -> String? {
        sealingKey(of: event)?.id
    }

    /// Why the rotation `event` (sealed under a held key) does not check out, if it does not:
    /// `to_key_id` must be its own key, `from_key_id` a held key whose `old_key_mac` matches.
    func rotationProblem(_ event: AuditEvent) -> AuditBreak? {
        var unsigned = event
        guard let from = unsigned.details[AuditKeyRotation.fromKeyID],
            unsigned.details[AuditKeyRotation.toKeyID] == event.keyID,
            let oldMAC = unsigned.details.removeValue(forKey: AuditKeyRotation.oldKeyMAC)
        else { return .malformedRotation }
        guard let old = keys.key(id: from) else { return .unknownKey(seq: event.seq, keyID: from) }
        return Self.isMAC(oldMAC, of: unsigned, key: old) ? nil : .malformedRotation
    }

    /// HMAC-SHA256 of the lower-cased address under the audit key, hex: lets compliance find
    /// every event for one address without the log holding it in clear.
    public func recipientHash(_ address: String) -> String {
        let normalized = Self.trimmingBlanks(address).lowercased()
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

    /// `text` without the blanks (`CharacterSet.whitespaces`) at its ends. Foundation's trimming
    /// costs more than the rest of a hash or a mask, and a text that starts and ends with an ASCII
    /// octet other than a space or a tab (every valid address) has nothing to trim: that is checked first.
    static func trimmingBlanks(_ text: String) -> String {
        func isClear(_ octet: UInt8?) -> Bool { octet.map { $0 < 0x80 && $0 != 0x20 && $0 != 0x09 } ?? true }
        if isClear(text.utf8.first) && isClear(text.utf8.last) { return text }
        return text.trimmingCharacters(in: .whitespaces)
    }

    /// `john.doe@example.com` → `j***@e***.com`: first letter of the local part and of the
    /// domain, and the top-level domain.
    public static func mask(_ address: String) -> String {
        maskPrintableASCII(address) ?? maskByCharacter(address)
    }

    /// ``mask(_:)`` of a text of printable ASCII octets (every valid address; no blank to trim),
    /// octet by octet: a Character there is one octet. `nil` for any other text. An email masks its
    /// address four times, and by Character each cost 9,000 instructions.
    static func maskPrintableASCII(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { octets -> String? in
            guard octets.allSatisfy({ (0x21...0x7E).contains($0) }) else { return nil }
            let stars = "***".utf8
            var masked: [UInt8] = []
            masked.reserveCapacity(16)
            guard let at = octets.lastIndex(of: UInt8(ascii: "@")) else {
                masked += octets.prefix(1)
                masked += stars
                return String(decoding: masked, as: UTF8.self)
            }
            let domain = octets[(at + 1)...]
            masked += octets[..<at].prefix(1)
            masked += stars
            masked.append(UInt8(ascii: "@"))
            masked += domain.prefix(1)
            masked += stars
            if let dot = domain.lastIndex(of: UInt8(ascii: ".")), dot != domain.startIndex {
                masked += domain[dot...]
            }
            return String(decoding: masked, as: UTF8.self)
        }
    }

    /// ``mask(_:)`` of any text, by Character.
    static func maskByCharacter(_ address: String) -> String {
        let trimmed = trimmingBlanks(address)
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

/// Why an unlinked event (``AuditChain/sealUnlinked(_:id:)``) does not check out.
public enum AuditUnlinkedProblem: Sendable, Hashable, CustomStringConvertible {
    /// Its content does not match its HMAC under the key it names: it was changed after it was written.
    case hashMismatch
    /// It names a key this gateway does not hold (a newer key during a rolling rotation, or a foreign one).
    case unknownKey(String)
    /// It has a seq, a link or no key id (or a store could not read it back): it was not written by
    /// ``AuditChain/sealUnlinked(_:id:)``.
    case notUnlinked

    public var description: String {
        switch self {
        case .hashMismatch: "hash does not match the event's content (changed after it was written)"
        case .unknownKey(let keyID):
            "sealed by key id \(keyID), which is not in audit.key_file or audit.previous_key_files"
        case .notUnlinked:
            "it is not an unsequenced event as a gateway writes one (a seq, a prev_hash, no key id, or unreadable columns)"
        }
    }
}
