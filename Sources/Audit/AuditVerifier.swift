/// Checks events fed in seq order against the chain; stops at the first break.
public struct AuditVerifier: Sendable {
    private let chain: AuditChain
    private var link: AuditLink
    private var broken: AuditVerification?

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
        } else if chain.hash(of: event) != event.hash {
            broken = .broken(firstBadSeq: event.seq, reason: .hashMismatch)
        } else {
            link.advance(past: event)
            return true
        }
        return false
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

    public var description: String {
        switch self {
        case .sequenceGap(let expected, let found): "expected seq \(expected), found \(found)"
        case .previousHashMismatch: "prev_hash does not match the previous event's hash"
        case .hashMismatch: "hash does not match the event's content (edited, or sealed with another audit key)"
        }
    }
}
