import CourierInbox
import Domain
import Foundation
import GatewayAPI
import HTTPTypes
import Hummingbird

/// `POST /v1/courier/kratos`: the receiver of Kratos's HTTP courier (`courier.delivery_strategy:
/// http`). Kratos takes any 2xx as sent and retries anything else on its next poll, so: 202 once
/// the message is stored, 200 for one posted before, 4xx for a document the gateway can never send
/// (Kratos abandons it after its retries), 503 while the store is unreachable.
package struct CourierRoutes: Sendable {
    let receiver: CourierReceiver
    let maxBodyBytes: Int

    package init(receiver: CourierReceiver, maxBodyBytes: Int) {
        self.receiver = receiver
        self.maxBodyBytes = maxBodyBytes
    }

    package func add(to router: Router<GatewayRequestContext>) {
        router.group("v1/courier/kratos").add(middleware: RequireScopeMiddleware(.courierKratos))
            .post { request, context in try await receive(request, context: context) }
    }

    func receive(_ request: Request, context: GatewayRequestContext) async throws -> DeliveryResponse {
        // The group's middleware has refused a request without one.
        guard let caller = context.caller else { throw Problem.unauthorized() }
        guard Self.isJSON(request.headers[.contentType]) else {
            throw Problem(
                .unsupportedMediaType,
                code: .unsupportedMediaType,
                title: "Unsupported media type",
                detail: "the body must be application/json",
                field: "Content-Type"
            )
        }
        var request = request
        let bytes = try await request.collectBody(limit: maxBodyBytes, setting: "courier.max_body_bytes")
        do {
            let answer = try await receiver.receive(json: Data(bytes.readableBytesView), caller: caller)
            return DeliveryResponse(answer: answer, replayStatus: .ok)
        } catch {
            switch error {
            case .invalid(let problem): throw Self.problem(problem)
            case .template:
                throw Problem(
                    .unprocessableContent,
                    code: .templateFailed,
                    title: "Template failed",
                    detail: "the gateway's template for this template type cannot render this message",
                    field: "template_type"
                )
            case .intake(let refusal):
                throw RecoveryEmailRoutes.problem(AcceptRefusal(refusal), context: context, at: "accept")
            case .rateLimited(let retryAfter, let field):
                throw Problem(
                    .tooManyRequests,
                    code: .rateLimited,
                    title: "Too many requests",
                    detail: field == nil
                        ? "this API key posts too fast" : "too many courier messages to this recipient recently",
                    field: field,
                    retryAfter: retryAfter
                )
            }
        }
    }

    /// `application/json`, or a `+json` type, with any parameters.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let type = contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }

    /// The 422 for a document the gateway can never send, naming the member (never its value).
    static func problem(_ error: CourierMessageError) -> Problem {
        let code: ProblemCode =
            switch error.kind {
            case .unsupportedKratosVersion: .unsupportedKratosVersion
            case .unknownTemplateType: .unknownTemplateType
            case .unsupportedMessageType: .unsupportedMessageType
            case .missing, .wrongType, .invalid: .invalidCourierMessage
            }
        return Problem(
            .unprocessableContent,
            code: code,
            title: "Invalid courier message",
            detail: error.description,
            field: error.field.isEmpty ? "body" : error.field
        )
    }
}
