import AsyncHTTPClient
import Audit
import Domain
import Foundation
import GatewayConfiguration
import Logging
import OIDC

/// What signing in needs beyond the sessions: the identity provider (when configured) and the
/// throttle per client address, which every way of signing in takes a token from, so that no
/// one can guess keys quickly or fill the session table.
struct ConsoleSignIns: Sendable {
    let oidc: ConsoleOIDCSettings?
    let provider: OIDCProvider?
    let verifier: IDTokenVerifier?
    /// 10 sign-in steps at once per client address, then one every 6 seconds.
    let throttle = RateLimiter(rate: 1.0 / 6, burst: 10, capacity: 10_000)

    init(oidc: ConsoleOIDCSettings?, httpClient: HTTPClient, logger: Logger) {
        self.oidc = oidc
        self.provider = oidc.map {
            OIDCProvider(
                issuer: $0.issuer,
                clientID: $0.clientID,
                clientSecret: $0.clientSecret.value,
                httpClient: httpClient,
                logger: logger
            )
        }
        self.verifier = oidc.map { IDTokenVerifier(issuer: $0.issuer, clientID: $0.clientID) }
    }

    /// The agent an ID token's claims name, with the scopes their roles map to.
    func agent(_ claims: IDTokenClaims, settings: ConsoleOIDCSettings) -> ConsoleAgent {
        let subject = "\(claims.issuer)#\(claims.subject)"
        let shown = claims.name ?? claims.preferredUsername ?? claims.subject
        let displayName = Self.printable(AuditChain.maskingAddresses(in: shown))
        return ConsoleAgent(
            agent: ConsoleSessions.oidcPrefix + subject,
            actor: Self.printable(AuditChain.maskingAddresses(in: "\(displayName) <\(subject)>")),
            displayName: displayName,
            scopes: settings.scopes(forRoles: claims.strings(settings.rolesClaim))
        )
    }

    /// `text` without control characters, at most 200 characters: what goes into a page, a log
    /// line and the audit log from a claim.
    static func printable(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0.properties.generalCategory != .control }.prefix(200).map(Character.init))
    }

    /// The console's sign-in page as the provider's `post_logout_redirect_uri`: the callback URL's
    /// origin with `/console/sign-in`.
    static func signInURL(redirectURL: String) -> String {
        guard let range = redirectURL.range(of: "/console/oidc/callback", options: .backwards) else {
            return redirectURL
        }
        return redirectURL.replacingCharacters(in: range, with: ConsoleRoutes.signInPath)
    }
}
