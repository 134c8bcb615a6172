import Foundation
import Gateway
import GatewayAPI
import Hummingbird
import JSONValue
import Kratos
import Logging
import Mail
import Server
import Store

/// Finding a user and the identity's page.
extension ConsoleRoutes {
    func findPage(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let session = try await session(request)
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
        page["query"] = query
        if let error { page["error"] = error }
        page["matches"] = matches
        page["hasMatches"] = !matches.isEmpty
        return ConsolePages.page("users", page, status: status)
    }

    /// By identity id (opened directly), or by login email: Kratos's `credentials_identifier`
    /// lookup, as the API's `email` field. Posted, so that the address stays out of URLs and logs.
    func find(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let session = try await session(request)
        let form = try await form(request, "find", session: session)
        let query = (form["query"] ?? "").trimmingCharacters(in: .whitespaces)
        if let id = UUID(uuidString: query) {
            return ConsolePages.redirect("/console/identities/\(id.uuidString.lowercased())")
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
        let found = try await kratosCall(context) { () async throws(KratosError) in
            try await kratos.identities(credentialsIdentifier: email.description)
        }
        let ids = Array(Set(found.map(\.id))).sorted()
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
        let session = try await session(request)
        let identity = try await identity(context)
        var page = chrome("User", session: session)
        page["id"] = identity.id
        page["state"] = identity.state ?? "—"
        page["schema"] = identity.schemaID
        page["traits"] = Self.prettyJSON(identity.traits)
        let addresses = identity.recoveryAddresses.map { ["value": $0.value, "via": $0.via] }
        page["addresses"] = addresses
        page["hasAddresses"] = !addresses.isEmpty
        page["canSend"] = session.scopes.contains(.send)
        let deliveries: Page<Delivery>
        do {
            deliveries = try await store.deliveries(DeliveryQuery(identityID: UUID(uuidString: identity.id), limit: 20))
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
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw RecoveryEmailRoutes.problem(.identityNotFound)
        }
        return try await kratosCall(context) { () async throws(KratosError) in
            try await kratos.identity(id: id.uuidString.lowercased())
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
