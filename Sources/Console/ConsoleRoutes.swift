import AsyncHTTPClient
import Audit
import Domain
import Foundation
import GatewayConfiguration
import HTTPTypes
import Hummingbird
import Kratos
import Logging
import NIOCore
import Server
import Store
import Templates

/// The support console at `/console`: HTML pages over the same domain services and scope checks
/// as the API — sign-in with the company's identity provider (OpenID Connect) or an API key, find
/// a user, send with a reason and a preview, watch a delivery, and the auditor's view of the audit
/// log. Sessions live in the store, so any replica serves any request.
package struct ConsoleRoutes: Sendable {
    let settings: ConsoleSettings
    let configuration: GatewayConfiguration
    let sessions: ConsoleSessions
    let cookies: ConsoleCookies
    let signIns: ConsoleSignIns
    let accept: AcceptService
    let kratos: KratosClient
    let store: any GatewayStore
    /// Hashes the addresses the console's own audit events name (lookups by email).
    let chain: AuditChain
    /// The audit log's verify, shared with the API's (one verification at a time, rate limited).
    let auditVerifier: AuditOnlineVerifier
    let templates: TemplateCatalog
    let gateway: GatewaySettings

    static let signInPath = "/console/sign-in"

    /// - Parameter configuration: the API keys to sign in with, `console` (cookies, timeouts, the
    ///   identity provider) and `server.max_body_bytes` (the largest form).
    /// - Parameter httpClient: what the console reaches the identity provider with.
    package init(
        configuration: GatewayConfiguration,
        accept: AcceptService,
        kratos: KratosClient,
        store: any GatewayStore,
        chain: AuditChain,
        auditVerifier: AuditOnlineVerifier,
        templates: TemplateCatalog,
        gateway: GatewaySettings,
        httpClient: HTTPClient,
        logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        let settings = configuration.console
        self.settings = settings
        self.configuration = configuration
        self.sessions = ConsoleSessions(
            store: store,
            limits: ConsoleSessionLimits(
                idleTimeout: settings.idleTimeout / .seconds(1),
                lifetime: settings.sessionLifetime / .seconds(1),
                perAgent: settings.sessionsPerAgent
            ),
            now: now
        )
        self.cookies = ConsoleCookies(secure: settings.secureCookie)
        self.signIns = ConsoleSignIns(oidc: settings.oidc, httpClient: httpClient, logger: logger)
        self.accept = accept
        self.kratos = kratos
        self.store = store
        self.chain = chain
        self.auditVerifier = auditVerifier
        self.templates = templates
        self.gateway = gateway
    }

    package func add(to router: Router<GatewayRequestContext>) {
        func group(_ path: String, _ scope: Scope? = nil) -> RouterGroup<GatewayRequestContext> {
            let group = router.group(RouterPath(path))
                .add(middleware: ConsoleHeadersMiddleware())
                .add(middleware: ConsoleSessionMiddleware(sessions: sessions, cookies: cookies))
            return scope.map { group.add(middleware: RequireScopeMiddleware($0)) } ?? group
        }
        group("console")
            .get { _, context in ConsolePages.redirect(context.caller.map(Self.home) ?? Self.signInPath) }
            .get("sign-in") { _, _ in signInPage() }
            .post("sign-in") { request, context in try await signIn(request, context: context) }
            .get("oidc/start") { request, context in try await oidcStart(request, context: context) }
            .get("oidc/callback") { request, context in try await oidcCallback(request, context: context) }
            .post("sign-out") { request, context in try await signOut(request, context: context) }
            .get("assets/console.css") { _, _ in
                ConsolePages.asset(PackageResources.console_css, contentType: "text/css; charset=utf-8")
            }
            .get("assets/console.js") { _, _ in
                ConsolePages.asset(PackageResources.console_js, contentType: "text/javascript; charset=utf-8")
            }
            .get("assets/icon.svg") { _, _ in
                ConsolePages.asset(PackageResources.icon_svg, contentType: "image/svg+xml")
            }
        group("console/users", .read)
            .get { request, context in try await findPage(request, context: context) }
            .post { request, context in try await find(request, context: context) }
        group("console/identities", .read)
            .get(":id") { request, context in try await identityPage(request, context: context) }
        group("console/identities", .send)
            .get(":id/send") { request, context in try await sendPage(request, context: context) }
            .post(":id/send") { request, context in try await send(request, context: context) }
            .post(":id/send/new") { request, context in try await newSend(request, context: context) }
        group("console/deliveries", .read)
            .get(":id") { request, context in try await deliveryPage(request, context: context) }
            .get(":id/status") { request, context in try await deliveryStatus(request, context: context) }
        group("console/audit", .auditRead)
            .get { request, context in try await auditPage(request, context: context) }
            .get("verify") { request, context in try await auditPage(request, context: context, verify: true) }
            .get("export") { request, context in try await auditExport(request, context: context) }
    }

    /// Where an agent starts: finding users, or the audit log for a key that may only read that.
    static func home(_ caller: Caller) -> String {
        caller.scopes.contains(.read) || !caller.scopes.contains(.auditRead) ? "/console/users" : "/console/audit"
    }

    // MARK: Sessions and forms

    /// The request's live session (``ConsoleSessionMiddleware`` has read it and made its agent the caller).
    func session(_ request: Request) throws -> ConsoleSession {
        guard let session = ConsoleSession.current else { throw ConsoleError.signInFirst }
        return session
    }

    /// The posted form, after checking its CSRF token against the session's token for `form`.
    func form(_ request: Request, _ form: String, session: ConsoleSession?) async throws -> ConsoleForm {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: configuration.server.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw ConsoleError(.contentTooLarge, "The form is too large.")
        }
        let fields = ConsoleForm(String(buffer: body))
        if let session, !session.accepts(fields["csrf"], for: form) {
            throw ConsoleError.staleForm
        }
        return fields
    }

    /// What every page's header needs: the title, and for a signed-in agent their name, the
    /// sign-out form's token and which parts of the console their scopes open.
    func chrome(_ title: String, session: ConsoleSession?) -> [String: Any] {
        var context: [String: Any] = ["title": title]
        if let session {
            context["agent"] = [
                "name": session.name,
                "signOutToken": session.csrfToken("sign-out"),
                "canRead": session.scopes.contains(.read),
                "canAudit": session.scopes.contains(.auditRead),
            ]
        }
        return context
    }

}

/// A console refusal that is not the API's: a stale form, no session, a form too large. Its
/// message is shown on the error page.
struct ConsoleError: HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// No session, or one that has ended (idle, too old, signed out).
    static let signInFirst = ConsoleError(.unauthorized, "Your session has ended or never began: sign in again.")

    /// A form whose CSRF token is not this session's (another session's, an old page, forged).
    static let staleForm = ConsoleError(
        .forbidden,
        "This form has expired or was not made for your session. Reload the page and try again."
    )

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status)
    }
}
