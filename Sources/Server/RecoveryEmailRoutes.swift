import Domain
import Foundation
import GatewayAPI
import HTTPTypes
import Hummingbird
import JSONValue
import Logging
import NIOCore
import Store
import Templates
import UUIDText

/// `POST /v1/recovery-emails`, `GET /v1/recovery-emails/{id}`, `GET /v1/recovery-emails`.
package struct RecoveryEmailRoutes: Sendable {
    let accept: AcceptService
    let store: any GatewayStore
    /// The worker's word on recorded outcomes, which `Prefer: wait` waits for.
    let outcomes: DeliveryOutcomes
    let maxBodyBytes: Int

    package init(accept: AcceptService, store: any GatewayStore, outcomes: DeliveryOutcomes, maxBodyBytes: Int) {
        self.accept = accept
        self.store = store
        self.outcomes = outcomes
        self.maxBodyBytes = maxBodyBytes
    }

    /// The longest `Prefer: wait=N` honoured.
    static let maximumWait = 30
    /// How long `Prefer: wait` waits for this process's worker before it reads the delivery again
    /// (another replica's worker may have recorded its outcome).
    static let rereadInterval = Duration.milliseconds(200)

    package func add(to router: Router<GatewayRequestContext>) {
        router.group("v1/recovery-emails").add(middleware: RequireScopeMiddleware(.send))
            .post { request, context in try await create(request, context: context) }
        router.group("v1/recovery-emails").add(middleware: RequireScopeMiddleware(.read))
            .get(":id") { request, context in try await show(request, context: context) }
            .get { request, context in try await list(request, context: context) }
    }

    /// Queues a delivery, or answers the one queued before under the key. Its phases are timed
    /// (``AcceptPhase``): the read and parse from when the request reached the router, the answer
    /// as the response is rendered (after a `Prefer: wait`, which is not a phase).
    func create(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let received = context.received ?? .now
        // The group's middleware has refused a request without one.
        guard let caller = context.caller else { throw Problem.unauthorized() }
        let key = try Self.idempotencyKey(request)
        var request = request
        let bytes = try await request.collectBody(limit: maxBodyBytes, setting: "server.max_body_bytes")
        guard let body = try? JSONValue(parsing: bytes.readableBytesView) else { throw Problem.invalidJSON }
        var response: DeliveryResponse
        do {
            response = DeliveryResponse(
                answer: try await accept.accept(body: body, idempotencyKey: key, caller: caller, received: received)
            )
        } catch {
            throw Self.problem(error, context: context, at: "accept")
        }
        if let wait = Self.preferredWait(request), wait > 0 {
            response.waited = await outcome(of: response.answer.deliveryID, within: .seconds(wait), context: context)
        }
        let answering = ContinuousClock.now
        let answer = try response.response(from: request, context: context)
        accept.metrics.time(.answer, .now - answering)
        return answer
    }

    /// The delivery `id` once it is `sent` or `failed`, or as it is when `limit` has passed: woken
    /// by the worker's recorded outcomes, read again every ``rereadInterval`` without one. Nil when
    /// the store cannot be read: the error is logged, and the answer is the one without a wait (the
    /// delivery is stored; waiting is only a preference).
    func outcome(of id: UUID, within limit: Duration, context: GatewayRequestContext) async -> Delivery? {
        let deadline = ContinuousClock.now + limit
        do {
            var record = try await store.delivery(id: id)
            while let current = record, !current.status.isFinal {
                let left = deadline - .now
                guard left > .zero else { break }
                // Woken by this process's worker or not (another replica's may have recorded it): read.
                await outcomes.next(of: id, within: min(left, Self.rereadInterval))
                record = try await store.delivery(id: id)
            }
            return record
        } catch {
            context.logger.error(
                "store failed while a request waited for its delivery",
                metadata: ["error": "\(error)"]
            )
            return nil
        }
    }

    /// The request's `Idempotency-Key`, or the problem of a missing or malformed one.
    static func idempotencyKey(_ request: Request) throws(Problem) -> String {
        guard let key = request.headers[.idempotencyKey] else {
            throw Problem(
                .badRequest,
                code: .idempotencyKeyMissing,
                title: "Idempotency-Key required",
                detail: "send an Idempotency-Key header (\(IdempotencyKey.rule))",
                field: "Idempotency-Key"
            )
        }
        guard IdempotencyKey.isValid(key) else {
            throw Problem(
                .badRequest,
                code: .idempotencyKeyInvalid,
                title: "Invalid Idempotency-Key",
                detail: "Idempotency-Key must be \(IdempotencyKey.rule)",
                field: "Idempotency-Key"
            )
        }
        return key
    }

    func show(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        guard let text = context.parameters.get("id"), let id = UUID(text: text) else {
            throw Problem.notFound("recovery email")
        }
        let record: Delivery?
        do {
            record = try await store.delivery(id: id)
        } catch {
            throw context.storeUnavailable(error)
        }
        guard let record else { throw Problem.notFound("recovery email") }
        return jsonResponse(DeliveryView(record).json())
    }

    func list(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let parameters = QueryParameters(request.uri.queryParameters)
        var query = DeliveryQuery(
            identityID: try parameters.uuid("identity_id"),
            createdSince: try parameters.date("since"),
            createdUntil: try parameters.date("until"),
            cursor: parameters.cursor(),
            limit: try parameters.limit()
        )
        if let status = parameters.string("status") {
            guard let parsed = DeliveryStatus(rawValue: status) else {
                throw Problem.badParameter("status", "must be one of queued, sending, retrying, sent, failed")
            }
            query.status = parsed
        }
        if let source = parameters.string("source") {
            guard let parsed = DeliverySource(rawValue: source) else {
                throw Problem.badParameter("source", "must be one of admin_api, kratos_courier")
            }
            query.source = parsed
        }
        if let type = parameters.string("template_type") {
            guard let parsed = CourierTemplateType(rawValue: type) else {
                let types = CourierTemplateType.allCases.map(\.rawValue).joined(separator: ", ")
                throw Problem.badParameter("template_type", "must be one of \(types)")
            }
            query.templateType = parsed.rawValue
        }
        let page: Page<Delivery>
        do {
            page = try await store.deliveries(query)
        } catch StoreError.invalidQuery {
            throw Problem.badParameter("cursor", "is not a cursor this list gave out")
        } catch {
            throw context.storeUnavailable(error)
        }
        return jsonResponse(PageView(items: page.items.map(DeliveryView.init), nextCursor: page.nextCursor).json())
    }

    /// `Prefer: wait=N` (RFC 7240), capped at 30 seconds; other preferences are ignored.
    static func preferredWait(_ request: Request) -> Int? {
        guard let prefer = request.headers[.prefer] else { return nil }
        for preference in prefer.split(separator: ",") {
            let parts = preference.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, parts[0].lowercased() == "wait", let seconds = Int(parts[1]), seconds >= 0 {
                return min(seconds, maximumWait)
            }
        }
        return nil
    }

    /// The HTTP answer to a refused request, with what the operator needs in the log: why Kratos
    /// or the store failed (the caller gets a 503 without it).
    static func problem(_ refusal: AcceptRefusal, context: GatewayRequestContext, at step: String) -> Problem {
        switch refusal {
        case .kratosUnavailable(_, let reason):
            context.logger.warning("Kratos refused or failed at \(step)", metadata: ["error": "\(reason)"])
        case .storeUnavailable(let failure):
            return context.storeUnavailable(failure)
        default:
            break
        }
        return problem(refusal)
    }

    /// The HTTP answer to a refused request (the console shows the same, next to the field).
    package static func problem(_ refusal: AcceptRefusal) -> Problem {
        switch refusal {
        case .invalid(let error):
            let status: HTTPResponse.Status = error.status == 400 ? .badRequest : .unprocessableContent
            return Problem(
                status,
                code: .invalidRequest,
                title: "Invalid request",
                detail: error.description,
                field: error.field
            )
        case .rateLimited(let retryAfter):
            return Problem(
                .tooManyRequests,
                code: .rateLimited,
                title: "Too many requests",
                detail: "this API key sends too fast",
                retryAfter: retryAfter
            )
        case .identityNotFound:
            return Problem(
                .notFound,
                code: .identityNotFound,
                title: "Identity not found",
                detail: "Kratos knows no such identity"
            )
        case .identityAmbiguous:
            return Problem(
                .unprocessableContent,
                code: .identityAmbiguous,
                title: "Identity ambiguous",
                detail: "more than one identity logs in with this email; send identity_id",
                field: "email"
            )
        case .noRecoveryAddress:
            return Problem(
                .unprocessableContent,
                code: .noRecoveryAddress,
                title: "No recovery address",
                detail:
                    "the identity has no email recovery address; a key with recovery:send:any-recipient must name one",
                field: "recipient"
            )
        case .recipientNotAllowed:
            return Problem(
                .forbidden,
                code: .recipientNotAllowed,
                title: "Recipient not allowed",
                detail: "the recipient is not one of the identity's recovery addresses",
                field: "recipient"
            )
        case .cooldown(let until):
            return Problem(
                .tooManyRequests,
                code: .cooldown,
                title: "Sent recently",
                detail: "a recovery email went to this identity and recipient moments ago",
                retryAfter: .seconds(max(1, until.timeIntervalSinceNow))
            )
        case .keyReused:
            return Problem(
                .unprocessableContent,
                code: .idempotencyKeyReused,
                title: "Idempotency-Key reused",
                detail: "this Idempotency-Key was used with another request",
                field: "Idempotency-Key"
            )
        case .kratosUnavailable(let retryAfter, _):
            return Problem(
                .serviceUnavailable,
                code: .kratosUnavailable,
                title: "Kratos unavailable",
                detail: "Kratos did not answer; nothing was stored",
                retryAfter: retryAfter ?? .seconds(5)
            )
        case .storeUnavailable:
            return .storeUnavailable
        }
    }
}

/// A 200 answer with a JSON body.
func jsonResponse(_ data: Data) -> Response {
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}
