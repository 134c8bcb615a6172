import Domain
import GatewayConfiguration
import HTTPTypes
import Hummingbird

/// Authenticates every request once, before any route runs: finds the API key behind
/// `Authorization: Bearer <key>` among the configured ones (kept as SHA-256 hashes, never the
/// keys themselves) and puts the caller in the request context. A request without a known key
/// goes on without a caller; the route groups that need one refuse it (``RequireScopeMiddleware``),
/// the public routes (health, the API document, metrics) do not look.
package struct APIKeyAuthenticator: RouterMiddleware {
    package typealias Context = GatewayRequestContext
    let configuration: GatewayConfiguration

    package init(configuration: GatewayConfiguration) { self.configuration = configuration }

    package func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            let key = configuration.apiKey(matching: String(header.dropFirst("Bearer ".count)))
        {
            context.caller = context.caller(name: key.name, scopes: key.scopes)
        }
        return try await next(request, context)
    }
}

/// What a route group needs of its caller: a known API key (else 401 `unauthorized`) with
/// `scope`, or one of `alternatives` (else 403 `insufficient_scope`). Added to a group, it guards
/// every route of it.
package struct RequireScopeMiddleware: RouterMiddleware {
    package typealias Context = GatewayRequestContext
    let scopes: [Scope]

    package init(_ scope: Scope, or alternatives: Scope...) { scopes = [scope] + alternatives }

    package func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let caller = context.caller else { throw Problem.unauthorized() }
        guard scopes.contains(where: caller.scopes.contains) else {
            throw Problem.forbidden(scopes.map(\.rawValue).joined(separator: " or "))
        }
        return try await next(request, context)
    }
}
