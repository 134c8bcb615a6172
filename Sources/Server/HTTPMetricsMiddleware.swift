import Domain
import HTTPTypes
import Hummingbird

/// Counts and times every request by method, route pattern and status (the pattern, as
/// `/v1/recovery-emails/{id}`, never the path: ids are not labels; `unmatched` when no route
/// matched). Runs outside ``RequestIDMiddleware``, so it sees the final status of errors too. The
/// time runs until the handler returns its response (as in the request's log line): a streamed
/// audit export goes on after that.
package struct HTTPMetricsMiddleware: RouterMiddleware {
    package typealias Context = GatewayRequestContext
    let metrics: GatewayMetrics

    package init(metrics: GatewayMetrics) { self.metrics = metrics }

    /// The methods counted by name; any other (a client may send any token) counts as `other`.
    static let known: Set<HTTPRequest.Method> = [.get, .head, .post, .put, .patch, .delete, .options]

    package func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        var context = context
        context.received = started
        let response = try await next(request, context)
        let labels = [
            ("method", Self.known.contains(request.method) ? request.method.rawValue : "other"),
            ("route", context.route ?? "unmatched"),
            ("status", String(response.status.code)),
        ]
        metrics.request(labels, .now - started)
        return response
    }
}

extension GatewayRequestContext {
    /// The pattern of the route that answered (`/v1/recovery-emails/{id}`), nil when none matched
    /// (Hummingbird then says `NotFound`).
    var route: String? {
        guard let path = endpointPath, path != "NotFound" else { return nil }
        return path
    }
}
