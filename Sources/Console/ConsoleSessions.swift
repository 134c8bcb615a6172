import Audit
import Crypto
import Domain
import Foundation
import Store

/// Who signs in: the agent (`oidc:<issuer>#<subject>` or `key:<name>`, for the per-agent bound),
/// the audit log's name for them, the name the pages show, and the scopes the session grants.
struct ConsoleAgent: Sendable, Equatable {
    let agent: String
    let actor: String
    let displayName: String
    let scopes: Set<Scope>

    /// Whether these scopes open at least one console page (finding users, or the audit log):
    /// a key or role that opens none gets no session.
    var opensAPage: Bool { scopes.contains(.read) || scopes.contains(.auditRead) }
}

/// One signed-in agent, as the request's cookie and the store know it. Its CSRF tokens are keyed
/// by the session id itself, which only the cookie holds, so any replica can check them and the
/// store holds nothing they could be made from.
struct ConsoleSession: Sendable {
    /// 256 random bits as hex: the cookie's value (never stored; the store has its SHA-256).
    let id: String
    let agent: ConsoleAgent
    let signedInAt: Date
    /// The send form open for each identity (by id), kept until the agent starts a new one.
    let sendForms: [String: ConsoleSendForm]

    var name: String { agent.displayName }
    var scopes: Set<Scope> { agent.scopes }
    /// Whether the identity provider signed this agent in (sign-out goes on to the provider).
    var isOIDC: Bool { agent.agent.hasPrefix(ConsoleSessions.oidcPrefix) }

    /// The token that form `form` of this session carries.
    func csrfToken(_ form: String) -> String { ConsoleCSRF.token(secret: id, form) }

    /// Whether `token` is this session's token for `form` (compared in constant time).
    func accepts(_ token: String?, for form: String) -> Bool { ConsoleCSRF.isValid(token, secret: id, form) }

    /// The session of the request being served, set by ``ConsoleSessionMiddleware``.
    @TaskLocal static var current: ConsoleSession?
}

/// CSRF tokens: HMAC-SHA256 of the form's name under a secret only the browser's cookie holds
/// (the session id, or before sign-in the sign-in cookie's random value).
enum ConsoleCSRF {
    static func token(secret: String, _ form: String) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(form.utf8), using: SymmetricKey(data: Data(secret.utf8))))
    }

    static func isValid(_ token: String?, secret: String, _ form: String) -> Bool {
        guard let token, let bytes = Hex.decode(token) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            bytes,
            authenticating: Data(form.utf8),
            using: SymmetricKey(data: Data(secret.utf8))
        )
    }
}

/// A send form as the session remembers it: its Idempotency-Key, and once it has sent, the delivery.
/// The key outlives the page, so a form shown again (Back, reload) and submitted again shows that
/// delivery instead of sending a second email; the agent starts a new form to send another.
struct ConsoleSendForm: Sendable, Equatable, Codable {
    let idempotencyKey: String
    var deliveryID: String?

    static func new() -> ConsoleSendForm { ConsoleSendForm(idempotencyKey: "console-" + ConsoleSessions.randomHex()) }
}

/// The console's sessions, kept in the store so that every replica serves them: created at
/// sign-in, ended by sign-out, by `idleTimeout` without a request, or `lifetime` after sign-in, on
/// every replica at once. The store keeps only the SHA-256 of a session id; each agent has at most
/// `perAgent` sessions (a new one ends their oldest), so no agent can push another out.
struct ConsoleSessions: Sendable {
    let store: any ConsoleSessionStore
    let limits: ConsoleSessionLimits
    let now: @Sendable () -> Date

    static let oidcPrefix = "oidc:"
    static let sendFormsPerSession = 200

    /// A new session for `agent`.
    func create(_ agent: ConsoleAgent) async throws(StoreError) -> ConsoleSession {
        let id = Self.randomHex()
        let at = now()
        try await store.createConsoleSession(
            ConsoleSessionRecord(
                idHash: Self.hash(id),
                agent: agent.agent,
                actor: agent.actor,
                displayName: agent.displayName,
                scopes: agent.scopes.map(\.rawValue).sorted(),
                signedInAt: at,
                lastSeen: at
            ),
            limits: limits
        )
        return ConsoleSession(id: id, agent: agent, signedInAt: at, sendForms: [:])
    }

    /// The live session with cookie value `id`, marked as used now.
    func use(_ id: String) async throws(StoreError) -> ConsoleSession? {
        guard Self.isSessionID(id),
            let record = try await store.useConsoleSession(idHash: Self.hash(id), now: now(), limits: limits)
        else { return nil }
        let agent = ConsoleAgent(
            agent: record.agent,
            actor: record.actor,
            displayName: record.displayName,
            scopes: Set(record.scopes.compactMap(Scope.init(rawValue:)))
        )
        let forms =
            (try? JSONDecoder().decode([String: ConsoleSendForm].self, from: Data(record.sendForms.utf8))) ?? [:]
        return ConsoleSession(id: id, agent: agent, signedInAt: record.signedInAt, sendForms: forms)
    }

    /// Ends the session (sign-out), on every replica.
    func end(_ id: String) async throws(StoreError) {
        try await store.endConsoleSession(idHash: Self.hash(id))
    }

    /// The send form open in `session` for `identity`, or a new one when there is none or `renew`
    /// (the agent starts a new send).
    func sendForm(
        _ session: ConsoleSession,
        identity: String,
        renew: Bool = false
    ) async throws(StoreError)
        -> ConsoleSendForm
    {
        if !renew, let open = session.sendForms[identity] { return open }
        let form = ConsoleSendForm.new()
        try await remember(form, identity: identity, in: session)
        return form
    }

    /// Records that the form with `key` for `identity` made `deliveryID`, so that it is the form
    /// shown again. A newer form the agent started since keeps its place.
    func sent(_ session: ConsoleSession, identity: String, key: String, deliveryID: String) async throws(StoreError) {
        if let open = session.sendForms[identity], open.idempotencyKey != key { return }
        try await remember(
            ConsoleSendForm(idempotencyKey: key, deliveryID: deliveryID),
            identity: identity,
            in: session
        )
    }

    /// Keeps `form` as the one open for `identity` in `session`, within the bound.
    private func remember(
        _ form: ConsoleSendForm,
        identity: String,
        in session: ConsoleSession
    ) async throws(StoreError) {
        var forms = session.sendForms
        if forms[identity] == nil, forms.count >= Self.sendFormsPerSession { forms.removeAll() }
        forms[identity] = form
        let json = (try? JSONEncoder().encode(forms)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        try await store.updateConsoleSendForms(idHash: Self.hash(session.id), sendForms: json)
    }

    /// The SHA-256 of a session id, as the store keeps it.
    static func hash(_ id: String) -> String { Hex.encode(SHA256.hash(data: Data(id.utf8))) }

    /// Whether `text` has the shape of a session id (64 lowercase hex digits): anything else is not
    /// looked up at all.
    static func isSessionID(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// 256 random bits as 64 hex digits.
    static func randomHex() -> String { Hex.encode(randomBytes()) }

    /// 256 random bits (from the system's secure generator).
    static func randomBytes() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
