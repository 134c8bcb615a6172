import Logging
import Synchronization

/// The audit log's breaks as this gateway found them: the checkpointer (an event whose HMAC or
/// link does not verify) and the sequencer (an unsequenced event whose own HMAC does not). Each
/// break is logged as an error naming where it is and counted in
/// `recovery_gateway_audit_breaks_total`; `/health/ready` answers 503 while the first is kept.
public final class AuditAlarm: Sendable {
    /// Where the log is broken and why.
    public struct Break: Sendable, Hashable, CustomStringConvertible {
        /// The first seq that does not verify (a sequenced event), if it is one.
        public var seq: Int64?
        /// The intake position of an unsequenced event that does not verify, if it is one.
        public var position: Int64?
        public var reason: String

        public init(seq: Int64? = nil, position: Int64? = nil, reason: String) {
            self.seq = seq
            self.position = position
            self.reason = reason
        }

        public var description: String {
            if let seq { return "seq \(seq): \(reason)" }
            return "unsequenced event at intake position \(position ?? 0): \(reason)"
        }
    }

    private let first = Mutex<Break?>(nil)
    let metrics: GatewayMetrics

    public init(metrics: GatewayMetrics) {
        self.metrics = metrics
    }

    /// Records a break that `finder` (`checkpointer`, `sequencer`) found, logging it on `logger`.
    public func raise(_ found: Break, by finder: String, logger: Logger) {
        first.withLock { first in first = first ?? found }
        metrics.count(.auditBreaks, [("found_by", finder)])
        logger.error(
            "the audit log is broken: nothing past this is signed or sealed",
            metadata: [
                "seq": "\(found.seq.map(String.init) ?? "none")",
                "intake_position": "\(found.position.map(String.init) ?? "none")",
                "reason": "\(found.reason)", "found_by": "\(finder)",
            ]
        )
    }

    /// The first break found, if any.
    public var broken: Break? { first.withLock { $0 } }
}
