/// Checks events fed in seq order against the chain; stops at the first break.
///
/// Each event is checked with the key it names (``AuditKeyRing``), and the keys must follow the
/// rotations: an event sealed by another key than the one before it is a break unless it is an
/// `audit.key_rotated` event from that key (``AuditKeyRotation``), and a key rotated away from
/// seals nothing after its rotation.
public struct AuditVerifier: Sendable {
    private let chain: AuditChain
    private var link: AuditLink
    private var broken: AuditVerification?
    /// The key that sealed the last event (unknown before the first).
    private var keyID: String?
    /// The seq of the rotation that retired each key rotated away from.
    private var retired: [String: Int64] = [:]

    init(chain: AuditChain, link: AuditLink = AuditLink()) {
        self.chain = chain
        self.link = link
    }

    /// Checks the next event; returns false once the chain is broken (later events are ignored).
    @discardableResult
    public mutating func feed(_ event: AuditEvent) -> Bool {
        guard broken == nil else { return false }
        if let (seq, reason) = link.check(event) {
            broken = .broken(firstBadSeq: seq, reason: reason)
        } else if let reason = keyProblem(event) {
            broken = .broken(firstBadSeq: event.seq, reason: reason)
        } else {
            link.advance(past: event)
            return true
        }
        return false
    }

    /// Checks `event`'s HMAC with its key and the key's place among the rotations; on success,
    /// moves the key state past it.
    private mutating func keyProblem(_ event: AuditEvent) -> AuditBreak? {
        if let id = event.keyID {
            guard chain.keys.key(id: id) != nil else { return .unknownKey(seq: event.seq, keyID: id) }
            if let rotation = retired[id] { return .sealedAfterRotation(keyID: id, rotationSeq: rotation) }
        }
        guard let key = chain.sealingKey(of: event, preferred: keyID) else { return .hashMismatch }
        if event.action == .auditKeyRotated, event.keyID != nil {
            if let problem = chain.rotationProblem(event) { return problem }
            // Both detail values are there: rotationProblem checked them.
            let from = event.details[AuditKeyRotation.fromKeyID] ?? ""
            // A rotation away from a key the chain is not on.
            if let keyID, keyID != from { return .malformedRotation }
            retired[from] = event.seq
            retired[key.id] = nil
        } else if let keyID, keyID != key.id {
            return .keySwitch(from: keyID, to: key.id)
        }
        keyID = key.id
        return nil
    }

    /// The verdict on everything fed so far.
    public var result: AuditVerification {
        broken ?? .ok(events: Int(link.expectedSeq - link.firstSeq), head: link.head)
    }
}

/// The rule that links each event to the one before, which anyone can check without a key:
/// seq one more than the previous event's, `prevHash` equal to its `hash`.
struct AuditLink: Sendable {
    /// The seq the check starts at: 1, or the first event of a tail (``AuditChain/verifier(after:prevHash:)``).
    let firstSeq: Int64
    private(set) var expectedSeq: Int64
    private(set) var head: String

    /// From the genesis hash when `seq` is 0, else from the event at `seq` whose hash is `head`.
    init(after seq: Int64 = 0, head: String = AuditEvent.genesisHash) {
        firstSeq = seq + 1
        expectedSeq = seq + 1
        self.head = head
    }

    /// The first bad seq and why, when `event` does not follow the events so far.
    func check(_ event: AuditEvent) -> (Int64, AuditBreak)? {
        if event.seq != expectedSeq { return (expectedSeq, .sequenceGap(expected: expectedSeq, found: event.seq)) }
        if event.prevHash != head { return (event.seq, .previousHashMismatch) }
        return nil
    }

    /// Moves past `event` (after ``check(_:)`` found nothing).
    mutating func advance(past event: AuditEvent) {
        expectedSeq += 1
        head = event.hash
    }
}

/// The verdict of an audit chain check.
public enum AuditVerification: Sendable, Hashable {
    /// Every event checked out; `head` is the last event's hash (the genesis hash when empty).
    case ok(events: Int, head: String)
    /// The first event that does not fit, and why.
    case broken(firstBadSeq: Int64, reason: AuditBreak)

    public var isOK: Bool {
        if case .ok = self { true } else { false }
    }
}

/// Why an audit chain is broken.
public enum AuditBreak: Sendable, Hashable, CustomStringConvertible {
    /// An event is missing or out of order (deleted or reordered events).
    case sequenceGap(expected: Int64, found: Int64)
    /// The event does not point at its predecessor's hash (an event before it was removed or swapped).
    case previousHashMismatch
    /// The event's content does not match its hash (an edited field, or the wrong key).
    case hashMismatch
    /// The event names a key that is not configured (its file was removed, or another key is in its place).
    case unknownKey(seq: Int64, keyID: String)
    /// The event is sealed by a key that a rotation before it retired.
    case sealedAfterRotation(keyID: String, rotationSeq: Int64)
    /// The event is sealed by another key than the event before it, with no rotation between
    /// (two gateways writing with different keys).
    case keySwitch(from: String, to: String)
    /// An `audit.key_rotated` event lacks a detail, or its `old_key_mac` does not match.
    case malformedRotation

    public var description: String {
        switch self {
        case .sequenceGap(let expected, let found): "expected seq \(expected), found \(found)"
        case .previousHashMismatch: "prev_hash does not match the previous event's hash"
        case .hashMismatch: "hash does not match the event's content (edited, or sealed with another audit key)"
        case .unknownKey(let seq, let keyID):
            "event seq \(seq) was sealed by key id \(keyID), which is not in audit.key_file or audit.previous_key_files"
        case .sealedAfterRotation(let keyID, let rotationSeq):
            "sealed by key id \(keyID) after its rotation at seq \(rotationSeq)"
        case .keySwitch(let from, let to):
            "sealed by key id \(to) while the events before it are sealed by key id \(from), with no "
                + "audit.key_rotated event between (two gateways writing with different audit keys?)"
        case .malformedRotation:
            "the audit.key_rotated event's key ids or old_key_mac do not check out (edited, or not made by a holder of the old key)"
        }
    }
}
