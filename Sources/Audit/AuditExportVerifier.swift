/// Checks an exported audit log with nothing but the checkpoint signers' public keys: every event
/// links to the one before (seq gapless, `prevHash` = previous `hash`), and every
/// `audit.checkpoint` is signed by the key it names, one of the given keys (several when the signing
/// key was changed), and its digest and head match the events it covers.
/// Feed the events in file order, from seq 1; stops at the first break.
///
/// Memory: a checkpoint may cover a seq a few events before its own (events appended while it
/// was signed), so the digest and hash after each seq a checkpoint covers are kept until the
/// checkpoint comes; given the covered seqs up front (a first pass over the export,
/// ``coveredSeq(of:)``), only those are kept, whatever the export's size.
public struct AuditExportVerifier: Sendable {
    private let publicKeys: [AuditPublicKey]
    private let coveredSeqs: Set<Int64>?
    private var link = AuditLink()
    private var digest = AuditDigest()
    /// ``AuditDigest`` and the event's hash after each seq that a checkpoint covers.
    private var kept: [Int64: (digest: [UInt8], hash: String)] = [:]
    private var checkpointSeqs: [Int64] = []
    private var state = AuditExportReport()

    /// What the events fed so far prove.
    public var report: AuditExportReport {
        var report = state
        let covered = report.lastCheckpoint?.checkpoint.seq ?? 0
        report.unsignedTail = Int(report.lastSeq - covered)
        report.unsignedTailCheckpoints = checkpointSeqs.count { $0 > covered }
        return report
    }

    /// A verifier that accepts checkpoints signed by any of `publicKeys` (at least one); it keeps
    /// what checkpoints need for the seqs in `coveredSeqs` only (`nil`: for every seq).
    public init(publicKeys: [AuditPublicKey], coveredSeqs: Set<Int64>? = nil) {
        precondition(!publicKeys.isEmpty, "an export is checked with at least one public key")
        self.publicKeys = publicKeys
        self.coveredSeqs = coveredSeqs
    }

    /// The seq that `event` claims to cover if it is a checkpoint (not checked: the verifier does that).
    public static func coveredSeq(of event: AuditEvent) -> Int64? {
        guard event.action == .auditCheckpoint else { return nil }
        return try? AuditCheckpoint(details: event.details).seq
    }

    public init(publicKey: AuditPublicKey) {
        self.init(publicKeys: [publicKey])
    }

    /// Checks the next event; returns false once the export is broken.
    @discardableResult
    public mutating func feed(_ event: AuditEvent) -> Bool {
        guard state.broken == nil else { return false }
        if let reason = problem(with: event) {
            state.broken = AuditExportBreak(seq: event.seq, reason: reason)
            return false
        }
        link.advance(past: event)
        digest.add(event)
        if coveredSeqs?.contains(event.seq) ?? true { kept[event.seq] = (digest.bytes, event.hash) }
        state.lastSeq = event.seq
        state.head = event.hash
        if event.action == .auditCheckpoint { checkpointSeqs.append(event.seq) }
        return true
    }

    private mutating func problem(with event: AuditEvent) -> AuditExportBreak.Reason? {
        if state.lastSeq == 0, event.seq != 1 { return .notFromStart(found: event.seq) }
        if let (_, reason) = link.check(event) { return .link(reason) }
        guard event.action == .auditCheckpoint else { return nil }
        let checkpoint: AuditCheckpoint
        do {
            checkpoint = try AuditCheckpoint(details: event.details)
        } catch {
            return .malformedCheckpoint(error)
        }
        guard let publicKey = publicKeys.first(where: { $0.keyID == checkpoint.keyID }) else {
            return .otherKey(found: checkpoint.keyID, expected: publicKeys.map(\.keyID))
        }
        guard checkpoint.isSigned(by: publicKey) else { return .badSignature }
        guard checkpoint.seq >= 1, checkpoint.seq < event.seq else { return .coversLater(seq: checkpoint.seq) }
        // Not kept only when the first pass saw no checkpoint covering it: then it matches nothing.
        guard let covered = kept[checkpoint.seq], Hex.encode(covered.digest) == checkpoint.digest else {
            return .digestMismatch(covers: checkpoint.seq)
        }
        guard covered.hash == checkpoint.head else { return .headMismatch(covers: checkpoint.seq) }
        state.checkpoints += 1
        state.signers.add(checkpoint)
        if checkpoint.seq >= state.lastCheckpoint?.checkpoint.seq ?? 0 {
            state.lastCheckpoint = AuditExportReport.SignedCheckpoint(eventSeq: event.seq, checkpoint: checkpoint)
        }
        return nil
    }
}

/// What an exported audit log proves: how far it links, how far signatures cover it.
public struct AuditExportReport: Sendable, Hashable {
    /// A checkpoint that verified, and the event that holds it.
    public struct SignedCheckpoint: Sendable, Hashable {
        public var eventSeq: Int64
        public var checkpoint: AuditCheckpoint
    }

    /// The last seq checked (0 when nothing was).
    public var lastSeq: Int64 = 0
    /// The hash of ``lastSeq``: the head of the log as far as the export goes.
    public var head: String?
    /// Checkpoints that verified.
    public var checkpoints = 0
    /// The verified checkpoint that covers the most events.
    public var lastCheckpoint: SignedCheckpoint?
    /// Events after the last covered seq: linked, but no signature covers them.
    public var unsignedTail = 0
    /// How many of ``unsignedTail`` are checkpoints themselves.
    public var unsignedTailCheckpoints = 0
    /// The first event that does not check out.
    public var broken: AuditExportBreak?
    /// Which signing key covers which seqs, in order.
    public var signers = AuditSignedRanges()
}

/// The seqs each signing key's checkpoints cover: a checkpoint covering seq N signs the events
/// after what the checkpoints before it covered, up to N.
public struct AuditSignedRanges: Sendable, Hashable {
    /// Events `first`…`last`, first covered by checkpoints of the key `keyID`.
    public struct Range: Sendable, Hashable {
        public var keyID: String
        public var first: Int64
        public var last: Int64
    }

    /// In seq order; consecutive checkpoints of one key make one range.
    public private(set) var ranges: [Range] = []

    /// Counts in the verified `checkpoint` (one that covers nothing new changes nothing).
    mutating func add(_ checkpoint: AuditCheckpoint) {
        let covered = ranges.last?.last ?? 0
        guard checkpoint.seq > covered else { return }
        if let last = ranges.indices.last, ranges[last].keyID == checkpoint.keyID {
            ranges[last].last = checkpoint.seq
        } else {
            ranges.append(Range(keyID: checkpoint.keyID, first: covered + 1, last: checkpoint.seq))
        }
    }
}

/// The first event of an export that does not check out, and why.
public struct AuditExportBreak: Sendable, Hashable, CustomStringConvertible {
    /// Why an exported event does not check out.
    public enum Reason: Sendable, Hashable {
        case notFromStart(found: Int64)
        case link(AuditBreak)
        case malformedCheckpoint(AuditCheckpointError)
        case otherKey(found: String, expected: [String])
        case badSignature
        case coversLater(seq: Int64)
        case digestMismatch(covers: Int64)
        case headMismatch(covers: Int64)
    }

    public var seq: Int64
    public var reason: Reason

    public init(seq: Int64, reason: Reason) {
        self.seq = seq
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .notFromStart(let found):
            "the export starts at seq \(found), not 1: the checkpoints' digest runs from seq 1, so export the whole log"
        case .link(let reason):
            "seq \(seq): \(reason) (an event was deleted, reordered or changed)"
        case .malformedCheckpoint(let error):
            "checkpoint at seq \(seq): \(error)"
        case .otherKey(let found, let expected) where expected.count == 1:
            "checkpoint at seq \(seq) names signing key id \(found), not the given public key's \(expected[0])"
        case .otherKey(let found, let expected):
            "checkpoint at seq \(seq) names signing key id \(found), none of the given public keys' (\(expected.joined(separator: ", ")))"
        case .badSignature:
            "checkpoint at seq \(seq): the signature does not verify (forged or altered checkpoint)"
        case .coversLater(let covered):
            "checkpoint at seq \(seq) claims to cover seq \(covered), which is not before it"
        case .digestMismatch(let covered):
            "checkpoint at seq \(seq): events 1-\(covered) do not match the signed digest (an event at or before seq \(covered) was edited)"
        case .headMismatch(let covered):
            "checkpoint at seq \(seq): the hash of seq \(covered) is not the signed head"
        }
    }
}
