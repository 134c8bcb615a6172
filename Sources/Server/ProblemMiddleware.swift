import GatewayAPI
import Hummingbird
import Logging

/// Answers every error as `application/problem+json`: a ``Problem`` as it is, Hummingbird's own
/// errors (no route for this method and path) converted, anything else as a 500 `internal` whose
/// type, not text, is logged.
package struct ProblemMiddleware: RouterMiddleware {
    package typealias Context = GatewayRequestContext

    package init() {}

    package func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            return try Problem(error).response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            return try error.response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(type(of: error))"])
            return try Problem(
                .internalServerError,
                code: .internal,
                title: "Internal error",
                detail: "the request failed"
            )
            .response(from: request, context: context)
        }
    }
}
