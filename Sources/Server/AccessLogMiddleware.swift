import Audit
import Foundation
import Hummingbird
import Logging

/// Logs one line per request: method, route, status, duration, request id, and what the route
/// added (``RequestLogFields``: the delivery id and masked recipient of an accepted request). Runs
/// outside ``ProblemMiddleware``, so the status of an error is the problem's.
package struct AccessLogMiddleware: RouterMiddleware {
    package typealias Context = GatewayRequestContext

    package init() {}

    package func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        // An autoclosure: the fields are put together only when info lines are logged.
        context.logger.info("request", metadata: Self.fields(request, context: context, response, started: started))
        return response
    }

    private static func fields(
        _ request: Request,
        context: Context,
        _ response: Response,
        started: ContinuousClock.Instant
    ) -> Logger.Metadata {
        var metadata = context.logFields.all
        metadata["method"] = "\(request.method.rawValue)"
        metadata["route"] = "\(context.route ?? "unmatched")"
        metadata["status"] = "\(response.status.code)"
        metadata["duration_ms"] = "\((ContinuousClock.now - started) / .milliseconds(1))"
        // A path no route matched is the client's text: it may hold an address.
        if context.route == nil { metadata["path"] = "\(masked(request.uri.path))" }
        return metadata
    }

    /// `path` with any address in it masked, percent-encoded ones too.
    static func masked(_ path: String) -> String {
        AuditChain.maskingAddresses(in: path.removingPercentEncoding ?? path)
    }
}
