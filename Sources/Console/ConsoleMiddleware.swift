import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Server

/// Puts the console's security headers on every console answer, and answers its errors as an
/// HTML page (not problem+json): a request that needs a session and has none is sent to sign in
/// (a `GET`) or refused with 401 (anything else); any other error shows its status and the
/// problem's detail, which never carries a value the caller sent (an unexpected one: 500).
struct ConsoleHeadersMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            if error.status == .unauthorized && request.method == .get {
                response = ConsolePages.redirect(ConsoleRoutes.signInPath)
            } else {
                let message =
                    error.status == .unauthorized
                    ? ConsoleError.signInFirst.message
                    : (error as? Problem)?.detail ?? (error as? ConsoleError)?.message ?? error.status.reasonPhrase
                response = ConsolePages.page(
                    "error",
                    ["title": "\(error.status.code) \(error.status.reasonPhrase)", "message": message],
                    status: error.status
                )
            }
        } catch {
            // Its type, not its text, is logged (as the API's problem middleware does).
            context.logger.error("console request failed", metadata: ["error": "\(type(of: error))"])
            response = ConsolePages.page(
                "error",
                ["title": "500 Internal Server Error", "message": "The request failed."],
                status: .internalServerError
            )
        }
        for field in ConsolePages.securityHeaders where response.headers[field.name] == nil {
            response.headers.append(field)
        }
        return response
    }
}

/// Reads the session cookie and makes its agent the request's caller — with the agent's audit
/// name and scopes, this request's source IP and id — so that ``RequireScopeMiddleware`` and the
/// domain see exactly what the API would; the session itself is ``ConsoleSession/current`` for the
/// handlers. An `Authorization` header counts for nothing here: the console is the session's alone.
struct ConsoleSessionMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let sessions: ConsoleSessions
    let cookies: ConsoleCookies

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.caller = nil
        var session: ConsoleSession?
        if let id = request.cookies[cookies.session]?.value {
            do {
                session = try await sessions.use(id)
            } catch {
                throw context.storeUnavailable(error)
            }
        }
        if let session {
            context.caller = context.caller(name: session.agent.actor, scopes: session.scopes)
            context.logFields.add(["console_agent": "\(session.agent.actor)"])
        }
        let caller = context
        return try await ConsoleSession.$current.withValue(session) { try await next(request, caller) }
    }
}
