/// What an audit event records, e.g. `email.requested`; the known actions are static members.
public struct AuditAction: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    /// A delivery was accepted and queued.
    public static let emailRequested = AuditAction("email.requested")
    /// A request was refused (no delivery was created).
    public static let emailRefused = AuditAction("email.refused")
    /// One attempt failed transiently; another follows.
    public static let emailAttemptFailed = AuditAction("email.attempt_failed")
    /// The SMTP server accepted the message.
    public static let emailSent = AuditAction("email.sent")
    /// The delivery ended without sending.
    public static let emailFailed = AuditAction("email.failed")
    /// A signed checkpoint of the log (``AuditCheckpoint``), written by the gateway itself.
    public static let auditCheckpoint = AuditAction("audit.checkpoint")
    /// The chain moved to another audit key (``AuditKeyRotation``), written by the gateway itself.
    public static let auditKeyRotated = AuditAction("audit.key_rotated")
    /// A batch's items were stored and it started (details: its counts and rate).
    public static let batchCreated = AuditAction("batch.created")
    /// A batch was cancelled (details: how many items it stopped, how many were on the wire).
    public static let batchCancelled = AuditAction("batch.cancelled")
    /// A batch was paused, by a caller or by the runner (details: the reason).
    public static let batchPaused = AuditAction("batch.paused")
    /// A paused batch was resumed (details: the reason).
    public static let batchResumed = AuditAction("batch.resumed")
    /// A batch was checked without sending (details: the items looked up, the counts, the reason).
    public static let batchDryRun = AuditAction("batch.dry_run")
}
