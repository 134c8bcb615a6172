import Audit
import Crypto
import Foundation
import Gateway

/// One signed-in agent: the key's name and scopes (the console grants exactly those), and the
/// secret its forms' CSRF tokens are made with. The API key itself is not kept.
struct ConsoleSession: Sendable {
    /// 256 random bits as hex: the cookie's value.
    let id: String
    let name: String
    let scopes: Set<Scope>
    let signedInAt: Date
    var lastSeen: Date
    /// 256 random bits (kept as bytes: `SymmetricKey` is not `Sendable` here).
    let csrfKey: [UInt8]
    /// The send form open for each identity (by id), kept until the agent starts a new one.
    var sendForms: [String: ConsoleSendForm] = [:]

    /// The token that form `form` of this session carries (HMAC-SHA256 of the form's name).
    func csrfToken(_ form: String) -> String {
        Self.token(key: csrfKey, form)
    }

    /// Whether `token` is this session's token for `form` (compared in constant time).
    func accepts(_ token: String?, for form: String) -> Bool {
        Self.isValid(token, key: csrfKey, form)
    }

    static func token(key: [UInt8], _ message: String) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: key)))
    }

    static func isValid(_ token: String?, key: [UInt8], _ message: String) -> Bool {
        guard let token, let bytes = Hex.decode(token) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            bytes,
            authenticating: Data(message.utf8),
            using: SymmetricKey(data: key)
        )
    }
}

/// A send form as the session remembers it: its Idempotency-Key, and once it has sent, the delivery.
/// The key outlives the page, so a form shown again (Back, reload) and submitted again shows that
/// delivery instead of sending a second email; the agent starts a new form to send another.
struct ConsoleSendForm: Sendable, Equatable {
    let idempotencyKey: String
    var deliveryID: String?

    static func new() -> ConsoleSendForm { ConsoleSendForm(idempotencyKey: "console-" + ConsoleSessions.randomHex()) }
}

/// The console's sessions, in memory (a restart signs every agent out): created at sign-in, ended
/// by sign-out, by `idleTimeout` without a request, or `lifetime` after sign-in. At most
/// `capacity` at once: the oldest goes first.
actor ConsoleSessions {
    let idleTimeout: Duration
    let lifetime: Duration
    let capacity: Int
    let now: @Sendable () -> Date
    private var sessions: [String: ConsoleSession] = [:]
    /// Signs the sign-in form's token, before there is a session (see ``signInToken(for:)``).
    nonisolated let signInKey = ConsoleSessions.randomBytes()

    init(
        idleTimeout: Duration,
        lifetime: Duration,
        capacity: Int = 10_000,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.idleTimeout = idleTimeout
        self.lifetime = lifetime
        self.capacity = capacity
        self.now = now
    }

    /// A new session for the key `name` with `scopes`.
    func create(name: String, scopes: Set<Scope>) -> ConsoleSession {
        let at = now()
        sessions = sessions.filter { isLive($0.value, at: at) }
        if sessions.count >= capacity, let oldest = sessions.values.min(by: { $0.signedInAt < $1.signedInAt }) {
            sessions[oldest.id] = nil
        }
        let session = ConsoleSession(
            id: Self.randomHex(),
            name: name,
            scopes: scopes,
            signedInAt: at,
            lastSeen: at,
            csrfKey: Self.randomBytes()
        )
        sessions[session.id] = session
        return session
    }

    /// The live session with cookie value `id`, marked as used now; an expired one is removed.
    func use(_ id: String) -> ConsoleSession? {
        let at = now()
        guard var session = sessions[id] else { return nil }
        guard isLive(session, at: at) else {
            sessions[id] = nil
            return nil
        }
        session.lastSeen = at
        sessions[id] = session
        return session
    }

    /// The send form open in session `id` for `identity`, or a new one when there is none or
    /// `renew` (the agent starts a new send). A session remembers at most `sendFormsPerSession`.
    func sendForm(_ id: String, identity: String, renew: Bool = false) -> ConsoleSendForm {
        if !renew, let open = sessions[id]?.sendForms[identity] { return open }
        let form = ConsoleSendForm.new()
        remember(form, identity: identity, in: id)
        return form
    }

    /// Records that the form with `key` for `identity` made `deliveryID`, so that it is the form
    /// shown again. A newer form the agent started since keeps its place.
    func sent(_ id: String, identity: String, key: String, deliveryID: String) {
        if let open = sessions[id]?.sendForms[identity], open.idempotencyKey != key { return }
        remember(ConsoleSendForm(idempotencyKey: key, deliveryID: deliveryID), identity: identity, in: id)
    }

    /// Keeps `form` as the one open for `identity` in session `id` (if it is live), within the bound.
    private func remember(_ form: ConsoleSendForm, identity: String, in id: String) {
        guard var session = sessions[id] else { return }
        if session.sendForms[identity] == nil, session.sendForms.count >= Self.sendFormsPerSession {
            session.sendForms.removeAll()
        }
        session.sendForms[identity] = form
        sessions[id] = session
    }

    static let sendFormsPerSession = 200

    /// Ends the session (sign-out).
    func end(_ id: String) { sessions[id] = nil }

    private func isLive(_ session: ConsoleSession, at: Date) -> Bool {
        at.timeIntervalSince(session.lastSeen) < idleTimeout / .seconds(1)
            && at.timeIntervalSince(session.signedInAt) < lifetime / .seconds(1)
    }

    /// The sign-in form's CSRF token, bound to the random value of its own cookie (there is no
    /// session yet): a page of another origin can neither read nor set that cookie.
    nonisolated func signInToken(for cookie: String) -> String {
        ConsoleSession.token(key: signInKey, "sign-in:" + cookie)
    }

    /// Whether `token` is the sign-in token for `cookie`.
    nonisolated func acceptsSignIn(_ token: String?, cookie: String?) -> Bool {
        guard let cookie else { return false }
        return ConsoleSession.isValid(token, key: signInKey, "sign-in:" + cookie)
    }

    /// 256 random bits as 64 hex digits.
    static func randomHex() -> String { Hex.encode(randomBytes()) }

    /// 256 random bits (from the system's secure generator).
    static func randomBytes() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
