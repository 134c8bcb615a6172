import Hummingbird
import NIOCore

/// Applies injected latency and faults (`/stand-in/faults`, `/stand-in/latency`) before a call is handled.
struct FaultMiddleware: RouterMiddleware {
    typealias Context = StandInRequestContext
    let state: StandInState

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let (latency, fault) = state.takeFault(path: request.uri.path)
        let delay = latency + (fault?.delayMilliseconds ?? 0)
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        guard let fault else { return try await next(request, context) }
        if fault.drop == true {
            // Close without an answer: the client sees the connection end mid-call.
            try? await context.channel.close()
            throw HerodotError.injected(status: 500)
        }
        guard let status = fault.status else { return try await next(request, context) }
        var response = HerodotError.injected(status: status).response
        if let retryAfter = fault.retryAfter { response.headers[.retryAfter] = retryAfter }
        return response
    }
}

/// Requires `Authorization: Bearer <token>` on every admin call when a token is configured.
struct BearerMiddleware: RouterMiddleware {
    typealias Context = StandInRequestContext
    let expected: String

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.headers[.authorization] == "Bearer " + expected else { throw HerodotError.unauthorized }
        return try await next(request, context)
    }
}
