import Audit
import Domain
import Foundation
import GatewayAPI
import Hummingbird
import JSONValue
import Kratos
import Logging
import Mail
import Server
import Store
import UUIDText

/// Finding a user and the identity's page.
extension ConsoleRoutes {
    func findPage(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let session = try session(request)
        return findPage(session: session, query: "")
    }

    func findPage(
        session: ConsoleSession,
        query: String,
        error: String? = nil,
        matches: [String] = [],
        status: HTTPResponse.Status = .ok
    ) -> Response {
        var page = chrome("Find a user", session: session)
        page["csrf"] = session.csrfToken("find")
        page["byEmail"] = session.scopes.contains(.identityRead)
        page["query"] = query
        if let error { page["error"] = error }
        page["matches"] = matches
        page["hasMatches"] = !matches.isEmpty
        return ConsolePages.page("users", page, status: status)
    }

    /// By identity id (opened directly), or by login email: Kratos's `credentials_identifier`
    /// lookup, as the API's `email` field. Posted, so that the address stays out of URLs and logs.
    /// A lookup by email needs `identity:read`, takes a token from the agent's rate limit and is
    /// audited (the address masked and hashed) before its answer is shown.
    func find(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let session = try session(request)
        let form = try await form(request, "find", session: session)
        let query = (form["query"] ?? "").trimmingCharacters(in: .whitespaces)
        if let id = UUID(text: query) {
            return ConsolePages.redirect("/console/identities/\(id.lowercasedString)")
        }
        guard session.scopes.contains(.identityRead) else {
            return findPage(
                session: session,
                query: query,
                error: "Enter an identity id (a UUID): looking a user up by email needs the identity:read scope.",
                status: .forbidden
            )
        }
        let email: EmailAddress
        do {
            email = try EmailAddress(query, field: "query")
        } catch {
            return findPage(
                session: session,
                query: query,
                error: "Enter a login email or an identity id (a UUID).",
                status: .badRequest
            )
        }
        guard let caller = context.caller else { throw ConsoleError.signInFirst }
        if let wait = accept.rateLimiter.take(caller.name) {
            let seconds = Int((wait / .seconds(1)).rounded(.up))
            var response = findPage(
                session: session,
                query: query,
                error: "Too many lookups and sends in a short time. Try again in \(seconds) seconds.",
                status: .tooManyRequests
            )
            response.headers[.retryAfter] = "\(seconds)"
            return response
        }
        let found = try await kratosCall(context) { () async throws(KratosError) in
            try await kratos.identities(credentialsIdentifier: email.description)
        }
        let ids = Array(Set(found.map(\.id))).sorted()
        do {
            _ = try await store.appendAudit(
                AuditDraft(
                    at: Date(),
                    actor: caller.name,
                    sourceIP: caller.sourceIP,
                    requestID: caller.requestID,
                    action: .identityLookedUp,
                    identityID: ids.count == 1 ? UUID(text: ids[0]) : nil,
                    recipientHash: chain.recipientHash(email.description),
                    recipientMasked: AuditChain.mask(email.description),
                    outcome: ids.isEmpty ? "not_found" : ids.count == 1 ? "found" : "several",
                    details: ["matches": "\(ids.count)"]
                )
            )
        } catch {
            throw context.storeUnavailable(error)
        }
        switch ids.count {
        case 0:
            return findPage(
                session: session,
                query: query,
                error: "No identity logs in with this email.",
                status: .notFound
            )
        case 1:
            return ConsolePages.redirect("/console/identities/\(ids[0])")
        default:
            return findPage(session: session, query: query, matches: ids)
        }
    }

    func identityPage(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let session = try session(request)
        let identity = try await identity(context)
        var page = chrome("User", session: session)
        page["id"] = identity.id
        page["state"] = identity.state ?? "—"
        page["schema"] = identity.schemaID
        // Traits and full addresses need identity:read; otherwise the page shows what the API would.
        let full = session.scopes.contains(.identityRead)
        page["traits"] = full ? Self.prettyJSON(identity.traits) : nil
        page["canSeeTraits"] = full
        let addresses = identity.recoveryAddresses.map {
            ["value": full ? $0.value : AuditChain.mask($0.value), "via": $0.via]
        }
        page["addresses"] = addresses
        page["hasAddresses"] = !addresses.isEmpty
        page["canSend"] = session.scopes.contains(.send)
        let deliveries: Page<Delivery>
        do {
            deliveries = try await store.deliveries(DeliveryQuery(identityID: UUID(text: identity.id), limit: 20))
        } catch {
            throw context.storeUnavailable(error)
        }
        let rows = deliveries.items.map { DeliveryView($0) }.map {
            [
                "id": $0.id, "createdAt": $0.createdAt, "status": $0.status, "recipient": $0.recipient,
                "method": $0.method, "template": $0.template,
            ]
        }
        page["deliveries"] = rows
        page["hasDeliveries"] = !rows.isEmpty
        return ConsolePages.page("identity", page)
    }

    /// The identity named by the path's `:id`, from Kratos.
    func identity(_ context: GatewayRequestContext) async throws -> Identity {
        guard let text = context.parameters.get("id"), let id = UUID(text: text) else {
            throw RecoveryEmailRoutes.problem(.identityNotFound)
        }
        return try await kratosCall(context) { () async throws(KratosError) in
            try await kratos.identity(id: id.lowercasedString)
        }
    }

    /// A Kratos call, its failure answered as the API answers it (404 for an unknown identity,
    /// 503 when Kratos fails, with the reason in the operator's log only).
    func kratosCall<T>(
        _ context: GatewayRequestContext,
        _ body: () async throws(KratosError) -> T
    ) async throws -> T {
        do {
            return try await body()
        } catch {
            if error.kind == .identityNotFound { throw RecoveryEmailRoutes.problem(.identityNotFound) }
            context.logger.warning("Kratos refused or failed in the console", metadata: ["error": "\(error)"])
            throw RecoveryEmailRoutes.problem(
                .kratosUnavailable(retryAfter: error.retryAfter, reason: error.description)
            )
        }
    }

    /// Traits as indented JSON with sorted keys (shown as text: every character escaped).
    static func prettyJSON(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}
