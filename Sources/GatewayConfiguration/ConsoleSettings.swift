/// `console`: the support console at `/console` — whether it is served, its session cookie, how
/// long a session lasts, and how agents sign in (OpenID Connect, API keys, or both).
public struct ConsoleSettings: Sendable, Equatable, Decodable {
    /// Whether `/console` is served at all.
    public var enabled: Bool
    /// Whether the session cookie is `Secure` (sent over HTTPS only). Off only for plain HTTP on a
    /// loopback `server.host` (a TLS proxy in front, or a local test).
    public var secureCookie: Bool
    /// A session unused this long ends.
    public var idleTimeout: Duration
    /// A session ends this long after sign-in, however busy.
    public var sessionLifetime: Duration
    /// At most this many sessions per agent: signing in again ends the agent's oldest.
    public var sessionsPerAgent: Int = 5
    /// Whether agents may sign in with an API key (small setups); off when only the identity
    /// provider should sign agents in.
    public var apiKeySignIn: Bool = true
    /// Signing in with the company's OpenID Connect provider; `nil` when not configured.
    public var oidc: ConsoleOIDCSettings?

    /// Served, `Secure` cookie, 15 minutes idle, 8 hours at most.
    public static let defaults = ConsoleSettings(
        enabled: true,
        secureCookie: true,
        idleTimeout: .seconds(15 * 60),
        sessionLifetime: .seconds(8 * 3_600)
    )

    /// Builds the settings as given (no checks: the loader checks what comes from outside).
    public init(enabled: Bool, secureCookie: Bool, idleTimeout: Duration, sessionLifetime: Duration) {
        self.enabled = enabled
        self.secureCookie = secureCookie
        self.idleTimeout = idleTimeout
        self.sessionLifetime = sessionLifetime
    }

    public init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, known: ConfigurationKeys.console)
        let defaults = Self.defaults
        let yesNo = ["true", "false"]
        enabled = try reader.choice("enabled", yesNo, default: "\(defaults.enabled)") == "true"
        secureCookie = try reader.choice("secure_cookie", yesNo, default: "\(defaults.secureCookie)") == "true"
        idleTimeout = try reader.duration("idle_timeout", default: defaults.idleTimeout)
        guard idleTimeout >= .seconds(1), idleTimeout <= .seconds(24 * 3_600) else {
            throw reader.error("idle_timeout", "must be from 1s to 24h")
        }
        sessionLifetime = try reader.duration("session_lifetime", default: defaults.sessionLifetime)
        guard sessionLifetime >= idleTimeout, sessionLifetime <= .seconds(7 * 24 * 3_600) else {
            throw reader.error("session_lifetime", "must be from console.idle_timeout to 168h")
        }
        sessionsPerAgent = try reader.int("sessions_per_agent", in: 1...100, default: defaults.sessionsPerAgent)
        apiKeySignIn = try reader.choice("api_key_sign_in", yesNo, default: "\(defaults.apiKeySignIn)") == "true"
        oidc = try ConsoleOIDCSettings.read(reader)
        guard apiKeySignIn || oidc != nil || !enabled else {
            throw reader.error("api_key_sign_in", "may be false only when console.oidc_issuer is set")
        }
    }

    /// Whether `host` (a `server.host`) only takes connections from this machine.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}
