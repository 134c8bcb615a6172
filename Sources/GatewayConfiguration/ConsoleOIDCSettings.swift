import Domain
import Foundation

/// `console.oidc_*`: signing agents in with the company's OpenID Connect provider — the provider
/// (found by discovery from its issuer), this client, the scopes asked for, and which of the
/// provider's roles grant which gateway scopes. A role that maps to nothing grants nothing.
public struct ConsoleOIDCSettings: Sendable, Equatable {
    /// The provider's issuer URL, exactly as its ID tokens name it (discovery reads
    /// `<issuer without a trailing slash>/.well-known/openid-configuration`).
    public var issuer: String
    public var clientID: String
    public var clientSecretFile: String
    /// The client secret, read from `clientSecretFile`.
    public var clientSecret: Secret
    /// Where the provider sends the agent back: this gateway's `/console/oidc/callback` as the
    /// browser reaches it (behind a proxy, the proxy's URL). Registered with the provider.
    public var redirectURL: String
    /// The scopes asked for; always includes `openid`.
    public var scopes: [String]
    /// The ID token claim that lists the agent's roles (a list of strings, or one string).
    public var rolesClaim: String
    /// Role → the gateway scopes it grants.
    public var roles: [String: Set<Scope>]

    public init(
        issuer: String,
        clientID: String,
        clientSecretFile: String,
        clientSecret: Secret,
        redirectURL: String,
        scopes: [String] = ["openid", "profile", "email"],
        rolesClaim: String = "groups",
        roles: [String: Set<Scope>]
    ) {
        self.issuer = issuer
        self.clientID = clientID
        self.clientSecretFile = clientSecretFile
        self.clientSecret = clientSecret
        self.redirectURL = redirectURL
        self.scopes = scopes
        self.rolesClaim = rolesClaim
        self.roles = roles
    }

    /// The scopes `roles` (the claim's values) grant together.
    public func scopes(forRoles roles: [String]) -> Set<Scope> {
        roles.reduce(into: Set<Scope>()) { $0.formUnion(self.roles[$1] ?? []) }
    }

    /// Reads the `oidc_*` keys of the console section; `nil` when `oidc_issuer` is not set.
    static func read(_ reader: SectionReader) throws -> ConsoleOIDCSettings? {
        guard let issuerText = try reader.optionalString("oidc_issuer", default: nil) else {
            for key in ["oidc_client_id", "oidc_client_secret_file", "oidc_redirect_url"]
            where try reader.optionalString(key, default: nil) != nil {
                throw reader.error(key, "needs console.oidc_issuer")
            }
            if let roles = try reader.nested(
                [String: [String]].self,
                "oidc_roles",
                expected: "a mapping of role to scopes"
            ),
                !roles.isEmpty
            {
                throw reader.error("oidc_roles", "needs console.oidc_issuer")
            }
            return nil
        }
        // Kept as written: it must equal the ID tokens' `iss` to the letter (some end in a slash).
        let issuer = issuerText
        guard let base = HTTPURL.checkedBase(issuer),
            base.lowercased().hasPrefix("https://") || Self.isLoopbackURL(base)
        else {
            throw reader.error("oidc_issuer", "must be an https URL without query or fragment (http only on loopback)")
        }
        guard let clientID = try reader.optionalString("oidc_client_id", default: nil) else {
            throw reader.error("oidc_client_id", "must be set when console.oidc_issuer is")
        }
        guard let secretFile = try reader.optionalString("oidc_client_secret_file", default: nil) else {
            throw reader.error("oidc_client_secret_file", "must be set when console.oidc_issuer is")
        }
        let secret = try SecretFile.readText(secretFile, key: reader.keyPath("oidc_client_secret_file"))
        guard let redirect = try reader.optionalString("oidc_redirect_url", default: nil),
            let components = URLComponents(string: redirect), components.path.hasSuffix("/console/oidc/callback"),
            HTTPURL.checkedBase(redirect) != nil,
            redirect.lowercased().hasPrefix("https://") || Self.isLoopbackURL(redirect)
        else {
            throw reader.error(
                "oidc_redirect_url",
                "must be this gateway's https URL ending in /console/oidc/callback (http only on loopback)"
            )
        }
        var scopes = try reader.textList("oidc_scopes") ?? ["openid", "profile", "email"]
        guard scopes.allSatisfy({ !$0.isEmpty && !$0.contains(" ") && $0.allSatisfy(\.isASCII) }) else {
            throw reader.error("oidc_scopes", "must be a list of scope names without spaces")
        }
        if !scopes.contains("openid") { scopes.insert("openid", at: 0) }
        let rolesClaim = try reader.string("oidc_roles_claim", default: "groups")
        guard
            let roles = try reader.nested(
                [String: [String]].self,
                "oidc_roles",
                expected: "a mapping of role to scopes"
            ),
            !roles.isEmpty
        else {
            throw reader.error("oidc_roles", "must map at least one role to gateway scopes (role: [recovery:read])")
        }
        var mapped: [String: Set<Scope>] = [:]
        for (role, names) in roles.sorted(by: { $0.key < $1.key }) {
            var granted: Set<Scope> = []
            for name in names {
                guard let scope = Scope(rawValue: name), scope != .courierKratos else {
                    let allowed = Scope.allCases.filter { $0 != .courierKratos }.map(\.rawValue)
                    throw reader.error(
                        "oidc_roles.\(role)",
                        "must list scopes among \(allowed.joined(separator: ", "))"
                    )
                }
                granted.insert(scope)
            }
            mapped[role] = granted
        }
        return ConsoleOIDCSettings(
            issuer: issuer,
            clientID: clientID,
            clientSecretFile: secretFile,
            clientSecret: secret,
            redirectURL: redirect,
            scopes: scopes,
            rolesClaim: rolesClaim,
            roles: mapped
        )
    }

    /// Whether `url` is plain HTTP to this machine (a test provider, a local gateway).
    static func isLoopbackURL(_ url: String) -> Bool {
        guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host
        else { return false }
        return ConsoleSettings.isLoopback(host)
    }
}
