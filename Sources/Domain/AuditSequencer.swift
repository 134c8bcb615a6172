import Audit
import Logging
import ServiceLifecycle
import Store

/// Links the audit events that requests wrote unlinked into the one chain, off the request path
/// (``AuditSequencing``; `docs/design/audit-scale-out.md`). Every replica runs one; each round is
/// elected by the database, so at most one seals at a time and the others skip the round rather
/// than wait. A round that took a full batch is followed at once by the next; otherwise the
/// sequencer looks again after `interval`.
///
/// An unsequenced event that no held key verifies is reported once to the ``AuditAlarm``; one under
/// a key this gateway does not hold, or a head already rotated past this gateway's key, makes it
/// look less often, so that a gateway holding the newer key wins the rounds.
public struct AuditSequencer: Service {
    let store: any AuditSequencing
    /// Names what is wrong with a rejected event.
    let chain: AuditChain
    let alarm: AuditAlarm
    let interval: Duration
    let logger: Logger

    /// Events one round takes at most.
    static let batch = 1000

    public init(
        store: any AuditSequencing,
        chain: AuditChain,
        alarm: AuditAlarm,
        interval: Duration = .milliseconds(50),
        logger: Logger
    ) {
        self.store = store
        self.chain = chain
        self.alarm = alarm
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var reported = Set<Int64>()
        var warned = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var pause = interval
            do {
                let round = try await store.sequenceAudit(wait: false, limit: Self.batch)
                report(&reported)
                if round.more, round.headOnOtherKey == nil, round.sealed > 0 { continue }
                if round.sealed == 0, round.headOnOtherKey != nil || round.waitingForKey > 0 {
                    pause = interval * 4
                    if !warned {
                        warned = true
                        logger.warning(
                            "audit events wait for a gateway that holds a newer audit key",
                            metadata: [
                                "head_key_id": "\(round.headOnOtherKey ?? "this gateway's")",
                                "events_under_other_keys": "\(round.waitingForKey)",
                            ]
                        )
                    }
                }
            } catch {
                logger.warning("cannot sequence the audit log", metadata: ["error": "\(error)"])
            }
            let wait = pause
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
        }
        // What the last requests wrote, before the store closes (another replica or the next start
        // seals it otherwise).
        _ = try? await store.sequenceAudit(wait: false, limit: Self.batch)
    }

    /// Raises the alarm for each rewritten unsequenced event not reported yet.
    private func report(_ reported: inout Set<Int64>) {
        for entry in store.rejectedAuditEvents where reported.insert(entry.position).inserted {
            let problem = chain.unlinkedProblem(entry.event)
            alarm.raise(
                AuditAlarm.Break(position: entry.position, reason: problem?.description ?? "it does not verify"),
                by: "sequencer",
                logger: logger
            )
        }
    }
}
