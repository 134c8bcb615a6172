import Audit
import Domain
import Foundation
import GatewayAPI
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Store
import UUIDText

/// `GET /v1/audit-events` (JSON pages, or the whole filtered log as NDJSON or CSV by `Accept`)
/// and `GET /v1/audit-events/verify`.
package struct AuditRoutes: Sendable {
    let store: any GatewayStore
    let verifier: AuditOnlineVerifier

    package init(store: any GatewayStore, verifier: AuditOnlineVerifier) {
        self.store = store
        self.verifier = verifier
    }

    package func add(to router: Router<GatewayRequestContext>) {
        router.group("v1/audit-events").add(middleware: RequireScopeMiddleware(.auditRead))
            .get("verify") { request, context in try await verify(request, context: context) }
            .get { request, context in try await list(request, context: context) }
    }

    func list(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let query = try Self.query(QueryParameters(request.uri.queryParameters))
        let accept = request.headers[.accept] ?? ""
        if let format = AuditExportFormat.allCases.first(where: { accept.contains($0.contentType.prefix { $0 != ";" }) }
        ) {
            return Self.export(query, format: format, store: store, logger: context.logger)
        }
        let page = try await page(query, context: context)
        return jsonResponse(PageView(items: page.items.map(AuditEventView.init), nextCursor: page.nextCursor).json())
    }

    /// The list's filters (`since`, `until`, `identity_id`, `actor`, `action`, `delivery_id`),
    /// cursor and limit, each checked with a problem naming it (the console reads the same).
    package static func query(_ parameters: QueryParameters) throws(Problem) -> AuditQuery {
        AuditQuery(
            since: try parameters.date("since"),
            until: try parameters.date("until"),
            identityID: try parameters.uuid("identity_id"),
            actor: parameters.string("actor"),
            action: parameters.string("action").map(AuditAction.init(rawValue:)),
            deliveryID: try parameters.uuid("delivery_id"),
            cursor: parameters.cursor(),
            limit: try parameters.limit()
        )
    }

    /// Streams every event the filters match (from `first`'s cursor on), page after page, without
    /// holding the log in memory. A store failure after the first bytes can only cut the answer
    /// short: it is logged here.
    package static func export(
        _ first: AuditQuery,
        format: AuditExportFormat,
        store: any GatewayStore,
        logger: Logger
    ) -> Response {
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: format.header))
            var query = first
            query.limit = PageLimit.range.upperBound
            while true {
                let page: Page<AuditEvent>
                do {
                    page = try await store.auditEvents(query)
                } catch {
                    logger.error("store failed during an audit export", metadata: ["error": "\(error)"])
                    throw error
                }
                try await writer.write(ByteBuffer(string: page.items.map(format.line).joined()))
                guard let next = page.nextCursor else { break }
                query.cursor = next
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: format.contentType], body: body)
    }

    func verify(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let view = try await Self.verify(verifier, caller: context.caller?.name ?? "", context: context)
        return jsonResponse(view.json())
    }

    /// Runs `verifier` for `caller`: a refusal is a 429 with `Retry-After`, a store failure a 503.
    package static func verify(
        _ verifier: AuditOnlineVerifier,
        caller: String,
        context: GatewayRequestContext
    ) async throws(Problem) -> AuditVerificationView {
        do {
            return AuditVerificationView(try await verifier.verify(caller: caller))
        } catch AuditOnlineVerifier.Refusal.tooSoon(let retryAfter) {
            throw Problem(
                .tooManyRequests,
                code: .rateLimited,
                title: "Too many requests",
                detail: "the audit log is verified at most once at a time and a few times a minute per caller",
                retryAfter: retryAfter
            )
        } catch {
            throw context.storeUnavailable(error)
        }
    }

    private func page(_ query: AuditQuery, context: GatewayRequestContext) async throws(Problem) -> Page<AuditEvent> {
        do {
            return try await store.auditEvents(query)
        } catch StoreError.invalidQuery {
            throw .badParameter("cursor", "is not a cursor this list gave out")
        } catch {
            throw context.storeUnavailable(error)
        }
    }
}

extension AuditVerificationView {
    /// The online verify's answer: the chain's verdict, where it resumed, and the unsequenced events.
    init(_ online: AuditOnlineVerification) {
        self.init(online.result)
        resumedAfter = online.resumedAfter
        unsequenced = online.unsequenced
        if let rejected = online.rejected, online.result.isOK {
            ok = false
            events = nil
            head = nil
            reason =
                "unsequenced event \(rejected.entry.event.id.lowercasedString) at intake position "
                + "\(rejected.entry.position): \(rejected.problem)"
        }
    }
}
