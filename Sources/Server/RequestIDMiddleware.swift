import Foundation
import HTTPTypes
import Hummingbird
import Logging
import UUIDText

/// Gives every request an id (the caller's `X-Request-Id` if it is sane, else a new UUID), puts it
/// in the request's logger, and sends it back on every response. Runs outside
/// ``ProblemMiddleware``, so errors, answered as problems by then, get it too.
package struct RequestIDMiddleware: RouterMiddleware {
    package typealias Context = GatewayRequestContext

    package init() {}

    package func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let given = request.headers[.requestID] ?? ""
        let sane = (1...200).contains(given.utf8.count) && given.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
        context.requestID = sane ? given : UUID().lowercasedString
        context.logger[metadataKey: "request_id"] = "\(context.requestID)"
        var response = try await next(request, context)
        response.headers[.requestID] = context.requestID
        return response
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
    static let prefer = Self("Prefer")!
}
