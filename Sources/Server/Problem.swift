import Domain
import Foundation
import GatewayAPI
import HTTPTypes
import Hummingbird

/// An error answer in `application/problem+json` (RFC 9457): `type`, `title`, `status`, `detail`,
/// a stable machine-readable `code` and, for bad input, the `field` at fault. Never carries a
/// value the caller sent, nor any secret.
public struct Problem: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    /// A ``ProblemCode``'s raw value, or for Hummingbird's own errors the status's reason phrase.
    public let code: String
    public let title: String
    public let detail: String
    public var field: String?
    /// Sent as `Retry-After` (whole seconds, at least 1).
    public var retryAfter: Duration?

    public init(
        _ status: HTTPResponse.Status,
        code: ProblemCode,
        title: String,
        detail: String,
        field: String? = nil,
        retryAfter: Duration? = nil
    ) {
        self.status = status
        self.code = code.rawValue
        self.title = title
        self.detail = detail
        self.field = field
        self.retryAfter = retryAfter
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(
            type: "/problems/\(code)",
            title: title,
            status: status.code,
            detail: detail,
            code: code,
            field: field
        )
        let data = (try? APIJSON.encoder.encode(body)) ?? Data()
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfter {
            headers[.retryAfter] = "\(max(1, Int((retryAfter / .seconds(1)).rounded(.up))))"
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private struct Body: Encodable {
        let type: String
        let title: String
        let status: Int
        let detail: String
        let code: String
        let field: String?
    }

    /// Hummingbird's own error (a path or method no route serves) as a problem: `not_found` for a 404,
    /// else the status's reason phrase in snake case. Its message, if any, is not passed on.
    init(_ error: HTTPError) {
        let reason = error.status.reasonPhrase
        status = error.status
        code =
            error.status == .notFound
            ? ProblemCode.notFound.rawValue
            : reason.lowercased().split(whereSeparator: { !$0.isLetter }).joined(separator: "_")
        title = reason
        detail = error.status == .notFound ? "no route serves this method and path" : reason.lowercased()
    }

    static func unauthorized() -> Problem {
        Problem(
            .unauthorized,
            code: .unauthorized,
            title: "Unauthorized",
            detail: "a valid API key is required as Bearer token"
        )
    }

    static func forbidden(_ scope: String) -> Problem {
        Problem(
            .forbidden,
            code: .insufficientScope,
            title: "Forbidden",
            detail: "this API key lacks the scope \(scope)"
        )
    }

    package static func badParameter(_ name: String, _ detail: String) -> Problem {
        Problem(
            .badRequest,
            code: .invalidParameter,
            title: "Invalid parameter",
            detail: "\(name): \(detail)",
            field: name
        )
    }

    static func notFound(_ what: String) -> Problem {
        Problem(.notFound, code: .notFound, title: "Not found", detail: "no such \(what)")
    }

    /// A body that is not JSON where JSON was sent.
    static let invalidJSON = Problem(
        .badRequest,
        code: .invalidJSON,
        title: "Invalid JSON",
        detail: "the body is not JSON",
        field: "body"
    )

    static let storeUnavailable = Problem(
        .serviceUnavailable,
        code: .storeUnavailable,
        title: "Service unavailable",
        detail: "the store cannot be reached; nothing was stored",
        retryAfter: .seconds(5)
    )
}
