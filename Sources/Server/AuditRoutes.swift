import Audit
import Foundation
import Gateway
import GatewayAPI
import HTTPTypes
import Hummingbird
import NIOCore
import Store

/// `GET /v1/audit-events` (JSON pages, or the whole filtered log as NDJSON or CSV by `Accept`)
/// and `GET /v1/audit-events/verify`.
package struct AuditRoutes: Sendable {
    let store: any GatewayStore
    let chain: AuditChain
    let auth: APIKeyAuthenticator

    package init(store: any GatewayStore, chain: AuditChain, auth: APIKeyAuthenticator) {
        self.store = store
        self.chain = chain
        self.auth = auth
    }

    package func add(to router: Router<GatewayRequestContext>) {
        router.get("v1/audit-events/verify") { request, context in try await verify(request, context: context) }
        router.get("v1/audit-events") { request, context in try await list(request, context: context) }
    }

    func list(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        _ = try auth.caller(request, context: context, needs: .auditRead)
        let parameters = QueryParameters(request.uri.queryParameters)
        var query = AuditQuery(
            since: try parameters.date("since"),
            until: try parameters.date("until"),
            identityID: try parameters.uuid("identity_id"),
            actor: parameters.string("actor"),
            action: parameters.string("action").map(AuditAction.init(rawValue:)),
            deliveryID: try parameters.uuid("delivery_id"),
            cursor: parameters.cursor(),
            limit: try parameters.limit()
        )
        let accept = request.headers[.accept] ?? ""
        if let format = AuditExportFormat.allCases.first(where: { accept.contains($0.contentType.prefix { $0 != ";" }) }
        ) {
            query.limit = PageLimit.range.upperBound
            return export(query, format: format)
        }
        let page = try await page(query)
        return jsonResponse(PageView(items: page.items.map(AuditEventView.init), nextCursor: page.nextCursor).json())
    }

    /// Streams every event the filters match, page after page, without holding the log in memory.
    private func export(_ first: AuditQuery, format: AuditExportFormat) -> Response {
        let body = ResponseBody { [store] writer in
            try await writer.write(ByteBuffer(string: format.header))
            var query = first
            while true {
                let page = try await store.auditEvents(query)
                try await writer.write(ByteBuffer(string: page.items.map(format.line).joined()))
                guard let next = page.nextCursor else { break }
                query.cursor = next
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: format.contentType], body: body)
    }

    func verify(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        _ = try auth.caller(request, context: context, needs: .auditRead)
        let result: AuditVerification
        do {
            result = try await store.verifyAudit(chain: chain)
        } catch {
            throw Problem.storeUnavailable
        }
        return jsonResponse(AuditVerificationView(result).json())
    }

    private func page(_ query: AuditQuery) async throws(Problem) -> Page<AuditEvent> {
        do {
            return try await store.auditEvents(query)
        } catch StoreError.invalidQuery {
            throw .badParameter("cursor", "is not a cursor this list gave out")
        } catch {
            throw .storeUnavailable
        }
    }
}
