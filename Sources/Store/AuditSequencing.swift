import Audit

/// A store whose requests write audit events unlinked, each with its own HMAC
/// (``AuditChain/sealUnlinked(_:id:)``), and whose sequencer links them into the one chain later,
/// off the request path (PostgreSQL; see `docs/design/audit-scale-out.md`).
public protocol AuditSequencing: GatewayStore {
    /// One sequencing round: unless another replica's round is under way (then nothing happens and
    /// `elected` is false; with `wait`, after that round instead), checks up to `limit` unsequenced
    /// events, seals those whose HMAC a held key verifies into the chain after its head, and removes
    /// them from the unsequenced ones, all in one transaction.
    func sequenceAudit(wait: Bool, limit: Int) async throws(StoreError) -> AuditSequencerRound

    /// Up to `limit` events not sequenced yet, oldest first, with the place each waits at.
    func unsequencedAuditEvents(limit: Int) async throws(StoreError) -> [UnsequencedAuditEvent]

    /// Every unsequenced event this process found that a held key does not verify (rewritten):
    /// the sequencer leaves each where it is, as evidence, and seals nothing of it.
    var rejectedAuditEvents: [UnsequencedAuditEvent] { get }
}

/// An audit event written but not yet linked into the chain.
public struct UnsequencedAuditEvent: Sendable, Hashable {
    /// Its place in arrival order (`audit_intake.n`): unique, ascending, not gapless.
    public var position: Int64
    /// The event as written: seq 0, empty `prevHash`, its own HMAC in `hash`.
    public var event: AuditEvent

    public init(position: Int64, event: AuditEvent) {
        self.position = position
        self.event = event
    }
}

/// What one sequencing round did.
public struct AuditSequencerRound: Sendable, Hashable {
    /// Whether this round held the sequencer's lock (false: another replica's round was under way).
    public var elected = false
    /// Events sealed into the chain.
    public var sealed = 0
    /// Whether there may be more to seal now (the round took as many as it could).
    public var more = false
    /// Events left for a gateway that holds the key they name.
    public var waitingForKey = 0
    /// Why the round sealed nothing although events wait: the head is on a key this gateway
    /// cannot seal after (a rotation to a newer key happened).
    public var headOnOtherKey: String?
    /// How long the round held the chain's head, from its lock to the end of the commit.
    public var held: Duration?

    public init() {}
}
