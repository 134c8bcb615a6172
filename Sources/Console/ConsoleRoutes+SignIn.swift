import Domain
import Foundation
import GatewayConfiguration
import HTTPTypes
import Hummingbird
import Logging
import OIDC
import Server

/// Signing in (with the identity provider, or an API key where allowed) and out.
extension ConsoleRoutes {
    func signInPage(error: String? = nil, status: HTTPResponse.Status = .ok, clearing: [String] = []) -> Response {
        var context = chrome("Sign in", session: nil)
        var cookies = clearing
        if settings.apiKeySignIn {
            // The form's CSRF token is keyed by its own cookie's random value: any replica checks it.
            let secret = ConsoleSessions.randomHex()
            context["apiKey"] = ["csrf": ConsoleCSRF.token(secret: secret, "sign-in")]
            cookies.append(self.cookies.setCookie(self.cookies.signIn, secret, maxAge: 900))
        }
        if let oidc = settings.oidc { context["oidc"] = ["issuer": oidc.issuer] }
        if let error { context["error"] = error }
        var response = ConsolePages.page("sign-in", context, status: status)
        for cookie in cookies { response.headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return response
    }

    /// The refusal when the client's address has used up its sign-in attempts, if it has.
    func throttled(_ context: GatewayRequestContext) -> Response? {
        guard let wait = signIns.throttle.take(context.sourceIP ?? "unknown") else { return nil }
        let seconds = Int((wait / .seconds(1)).rounded(.up))
        context.logger.notice("console sign-in throttled")
        var response = signInPage(
            error: "Too many sign-in attempts from your address. Try again in \(seconds) seconds.",
            status: .tooManyRequests
        )
        response.headers[.retryAfter] = "\(seconds)"
        return response
    }

    func signIn(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        guard settings.apiKeySignIn else {
            throw ConsoleError(
                .notFound,
                "Signing in with an API key is turned off here: sign in with your identity provider."
            )
        }
        let form = try await form(request, "sign-in", session: nil)
        guard let secret = request.cookies[cookies.signIn]?.value,
            ConsoleCSRF.isValid(form["csrf"], secret: secret, "sign-in")
        else {
            throw ConsoleError.staleForm
        }
        if let refused = throttled(context) { return refused }
        guard let key = configuration.apiKey(matching: form["api_key"] ?? "") else {
            context.logger.notice("console sign-in refused: unknown key")
            return signInPage(error: "This is not a valid API key.", status: .unauthorized)
        }
        let agent = ConsoleAgent(agent: "key:" + key.name, actor: key.name, displayName: key.name, scopes: key.scopes)
        guard agent.opensAPage else {
            context.logger.notice(
                "console sign-in refused: the key opens no console page",
                metadata: ["key": "\(key.name)"]
            )
            return signInPage(
                error: "This key opens no console page: it needs recovery:read or audit:read.",
                status: .forbidden
            )
        }
        let session = try await startSession(agent, context: context)
        return ConsolePages.redirect(
            Self.home(Caller(name: agent.actor, scopes: agent.scopes)),
            cookies: [cookies.setCookie(cookies.session, session.id), cookies.clear(cookies.signIn)]
        )
    }

    /// Sends the browser to the identity provider, with this sign-in's secret in a cookie of its own.
    func oidcStart(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        guard let oidc = settings.oidc, let provider = signIns.provider else { throw Self.noOIDC }
        if let refused = throttled(context) { return refused }
        let signIn = OIDCSignIn.new()
        let url: String
        do {
            let metadata = try await provider.discover()
            url = try signIn.authorizationURL(
                metadata.authorizationEndpoint,
                clientID: oidc.clientID,
                redirectURL: oidc.redirectURL,
                scopes: oidc.scopes
            )
        } catch {
            context.logger.warning("console sign-in: the identity provider failed", metadata: ["error": "\(error)"])
            return signInPage(error: Self.providerDown, status: .serviceUnavailable)
        }
        // Lax: the provider's redirect back is a navigation from another site, which must carry it.
        return ConsolePages.redirect(
            url,
            cookies: [cookies.setCookie(cookies.oidc, signIn.secret, maxAge: 600, lax: true)]
        )
    }

    /// The provider's answer: checked against this browser's sign-in (state), the code redeemed with
    /// its PKCE verifier, the ID token verified (signature, issuer, audience, expiry, nonce), the roles
    /// mapped to scopes. No mapped role that opens a page, no session.
    func oidcCallback(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        guard let oidc = settings.oidc, let provider = signIns.provider, let verifier = signIns.verifier else {
            throw Self.noOIDC
        }
        if let refused = throttled(context) { return refused }
        let clear = [cookies.clear(cookies.oidc)]
        let parameters = request.uri.queryParameters
        guard let secret = request.cookies[cookies.oidc]?.value else {
            return signInPage(
                error: "This sign-in was not started here or took too long. Sign in again.",
                status: .badRequest
            )
        }
        let signIn = OIDCSignIn(secret: secret)
        guard signIn.accepts(state: parameters.get("state").map { String($0) }) else {
            context.logger.notice("console sign-in refused: the state is not this browser's sign-in")
            return signInPage(
                error: "This answer from the identity provider is not for your sign-in. Sign in again.",
                status: .badRequest,
                clearing: clear
            )
        }
        guard parameters.get("error") == nil, let code = parameters.get("code"), !code.isEmpty else {
            context.logger.notice("console sign-in refused by the identity provider")
            return signInPage(
                error: "The identity provider did not sign you in.",
                status: .unauthorized,
                clearing: clear
            )
        }
        let token: String
        let claims: IDTokenClaims
        do {
            token = try await provider.idToken(
                code: String(code),
                codeVerifier: signIn.codeVerifier,
                redirectURL: oidc.redirectURL
            )
            claims = try await provider.verify(token, with: verifier, nonce: signIn.nonce)
        } catch {
            context.logger.warning("console sign-in refused", metadata: ["error": "\(error)"])
            let down = error.kind == .provider
            return signInPage(
                error: down
                    ? Self.providerDown : "The identity provider's answer did not pass the checks. Sign in again.",
                status: down ? .serviceUnavailable : .unauthorized,
                clearing: clear
            )
        }
        let agent = signIns.agent(claims, settings: oidc)
        guard agent.opensAPage else {
            context.logger.notice(
                "console sign-in refused: no role opens a console page",
                metadata: ["agent": "\(agent.actor)"]
            )
            return signInPage(
                error: "Your identity provider signed you in, but none of your roles opens the console. "
                    + "Ask your administrator for a support role.",
                status: .forbidden,
                clearing: clear
            )
        }
        let session = try await startSession(agent, context: context)
        var set = clear + [cookies.setCookie(cookies.session, session.id)]
        // The ID token goes back to the provider at sign-out (`id_token_hint`); a cookie keeps it,
        // not the store. Left out if it would not fit in one.
        if token.utf8.count < 3_800, token.utf8.allSatisfy(Self.isTokenByte) {
            set.append(cookies.setCookie(cookies.idToken, token, maxAge: Int(settings.sessionLifetime / .seconds(1))))
        }
        // A page, not a redirect: the session cookie is SameSite=Strict, and a redirect at the end of a
        // chain that began at the provider would not carry it.
        return continuePage(
            "Signed in",
            message: "Signed in as \(agent.displayName).",
            to: Self.home(Caller(name: agent.actor, scopes: agent.scopes)),
            cookies: set
        )
    }

    func signOut(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let session = try session(request)
        _ = try await form(request, "sign-out", session: session)
        do {
            try await sessions.end(session.id)
        } catch {
            throw context.storeUnavailable(error)
        }
        let clear = [cookies.clear(cookies.session), cookies.clear(cookies.idToken)]
        let hint = request.cookies[cookies.idToken]?.value.filter { $0.utf8.allSatisfy(Self.isTokenByte) }
        if session.isOIDC, let oidc = settings.oidc, let provider = signIns.provider,
            let url = await provider.endSessionURL(
                idTokenHint: hint,
                returnURL: ConsoleSignIns.signInURL(redirectURL: oidc.redirectURL)
            )
        {
            return continuePage(
                "Signed out",
                message: "You are signed out of the console. Signing you out at your identity provider…",
                to: url,
                cookies: clear
            )
        }
        return ConsolePages.redirect(Self.signInPath, cookies: clear)
    }

    /// A new session for `agent` in the store.
    private func startSession(_ agent: ConsoleAgent, context: GatewayRequestContext) async throws -> ConsoleSession {
        let session: ConsoleSession
        do {
            session = try await sessions.create(agent)
        } catch {
            throw context.storeUnavailable(error)
        }
        context.logFields.add(["console_agent": "\(agent.actor)"])
        context.logger.info("console sign-in", metadata: ["console_agent": "\(agent.actor)"])
        return session
    }

    /// A page that goes on to `location` at once (and links to it).
    private func continuePage(_ title: String, message: String, to location: String, cookies: [String]) -> Response {
        var response = ConsolePages.page("continue", ["title": title, "message": message, "location": location])
        for cookie in cookies { response.headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return response
    }

    /// A JWT's characters: base64url and the dots between its parts.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        (65...90).contains(byte) || (97...122).contains(byte) || (48...57).contains(byte) || byte == 45 || byte == 95
            || byte == 46
    }

    static let noOIDC = ConsoleError(.notFound, "No identity provider is configured: sign in with an API key.")
    static let providerDown = "The identity provider cannot be reached. Try again shortly."
}
