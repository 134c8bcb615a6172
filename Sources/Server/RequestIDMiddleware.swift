import Audit
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Gives every request an id (the caller's `X-Request-Id` if it is sane, else a new UUID),
/// sends it back on every response, errors included, turns errors (Hummingbird's own too) into
/// problem+json, and logs one line per request: method, route, status, duration, request id, and
/// what the route added (``RequestLogFields``: the delivery id and masked recipient of an accepted
/// request).
package struct RequestIDMiddleware: RouterMiddleware {
    package typealias Context = GatewayRequestContext

    package func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let given = request.headers[.requestID] ?? ""
        let sane = (1...200).contains(given.utf8.count) && given.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
        context.requestID = sane ? given : UUID().uuidString.lowercased()
        context.logger[metadataKey: "request_id"] = "\(context.requestID)"
        let started = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError {
            // Hummingbird's own (no route for this path and method): problem+json like every error.
            response = try Problem(error).response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(type(of: error))"])
            response = try Problem(
                .internalServerError,
                code: .internal,
                title: "Internal error",
                detail: "the request failed"
            )
            .response(from: request, context: context)
        }
        response.headers[.requestID] = context.requestID
        var metadata = context.logFields.all
        metadata["method"] = "\(request.method.rawValue)"
        metadata["route"] = "\(context.route ?? "unmatched")"
        metadata["status"] = "\(response.status.code)"
        metadata["duration_ms"] = "\((ContinuousClock.now - started) / .milliseconds(1))"
        // A path no route matched is the client's text: it may hold an address.
        if context.route == nil { metadata["path"] = "\(Self.masked(request.uri.path))" }
        context.logger.info("request", metadata: metadata)
        return response
    }

    /// `path` with any address in it masked, percent-encoded ones too.
    static func masked(_ path: String) -> String {
        AuditChain.maskingAddresses(in: path.removingPercentEncoding ?? path)
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
    static let prefer = Self("Prefer")!
}
