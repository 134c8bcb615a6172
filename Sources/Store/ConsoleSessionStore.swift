import Foundation

/// A console session as the store keeps it: never the session id (the cookie's secret), only its
/// SHA-256, so that a copy of the database signs no one in.
public struct ConsoleSessionRecord: Sendable, Hashable {
    /// The SHA-256 of the session id, as 64 lowercase hex digits.
    public var idHash: String
    /// Who signed in, for the per-agent bound: `oidc:<issuer>#<subject>` or `key:<name>`.
    public var agent: String
    /// The name the audit log gives the agent's actions.
    public var actor: String
    /// The name the pages show.
    public var displayName: String
    /// The gateway scopes the session grants (`recovery:read`, …), sorted.
    public var scopes: [String]
    public var signedInAt: Date
    public var lastSeen: Date
    /// The send form open for each identity, as JSON (see the console's `ConsoleSendForms`).
    public var sendForms: String

    public init(
        idHash: String,
        agent: String,
        actor: String,
        displayName: String,
        scopes: [String],
        signedInAt: Date,
        lastSeen: Date,
        sendForms: String = "{}"
    ) {
        self.idHash = idHash
        self.agent = agent
        self.actor = actor
        self.displayName = displayName
        self.scopes = scopes
        self.signedInAt = signedInAt
        self.lastSeen = lastSeen
        self.sendForms = sendForms
    }
}

/// When a console session ends without a sign-out: unused for `idleTimeout`, or `lifetime` after
/// sign-in, whichever comes first.
public struct ConsoleSessionLimits: Sendable, Hashable {
    public var idleTimeout: TimeInterval
    public var lifetime: TimeInterval
    /// At most this many sessions per agent: a new one ends the agent's oldest.
    public var perAgent: Int

    public init(idleTimeout: TimeInterval, lifetime: TimeInterval, perAgent: Int) {
        self.idleTimeout = idleTimeout
        self.lifetime = lifetime
        self.perAgent = perAgent
    }

    /// Whether a session signed in at `signedInAt` and last seen at `lastSeen` is live at `now`.
    public func isLive(signedInAt: Date, lastSeen: Date, at now: Date) -> Bool {
        now.timeIntervalSince(lastSeen) < idleTimeout && now.timeIntervalSince(signedInAt) < lifetime
    }
}

/// The console's sessions where every replica sees them: sign-out, idle timeout and lifetime hold
/// on all of them at once.
public protocol ConsoleSessionStore: Sendable {
    /// Stores `session`, then ends the agent's oldest sessions beyond `limits.perAgent` and every
    /// session that has expired by `session.signedInAt`; one transaction.
    func createConsoleSession(_ session: ConsoleSessionRecord, limits: ConsoleSessionLimits) async throws(StoreError)

    /// The live session whose id hashes to `idHash`, with `lastSeen` moved to `now`; `nil` when
    /// there is none or it has expired (then it is deleted).
    func useConsoleSession(
        idHash: String,
        now: Date,
        limits: ConsoleSessionLimits
    ) async throws(StoreError) -> ConsoleSessionRecord?

    /// Replaces the session's open send forms (nothing when the session is gone).
    func updateConsoleSendForms(idHash: String, sendForms: String) async throws(StoreError)

    /// Ends the session (sign-out); nothing when it is gone already.
    func endConsoleSession(idHash: String) async throws(StoreError)
}
