import Foundation
import Hummingbird
import JSONValue

/// `GET/POST /admin/identities`, `GET/DELETE /admin/identities/{id}`, as Kratos's identity handler answers them.
struct IdentityRoutes {
    let state: StandInState
    let publicURL: String

    /// Kratos's default and largest keyset page sizes for identities.
    static let defaultPageSize = 250
    static let maximumPageSize = 1000
    static let firstPageToken = "00000000-0000-0000-0000-000000000000"

    func register(on group: RouterGroup<StandInRequestContext>) {
        group.get("identities/{id}") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard let identity = state.identity(id: id) else { throw HerodotError.noRows() }
            return JSONResponse.make(.ok, body: identity.body)
        }
        group.delete("identities/{id}") { _, context in
            guard state.delete(id: context.parameters.get("id") ?? "") else { throw HerodotError.noRows() }
            return Response(status: .noContent)
        }
        group.get("identities") { request, _ in try list(request) }
        group.post("identities") { request, context in try await create(request, context: context) }
    }

    private func list(_ request: Request) throws -> Response {
        let query = request.uri.queryParameters
        let identifier = query["credentials_identifier"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        var size = Self.defaultPageSize
        if let text = query["page_size"] ?? query["per_page"] {
            guard let value = Int(text) else {
                throw HerodotError.badRequest("strconv.Atoi: parsing \"\(text)\": invalid syntax")
            }
            size = min(max(value, 1), Self.maximumPageSize)
        }
        let token = query["page_token"].map(String.init) ?? Self.firstPageToken
        guard UUID(uuidString: token) != nil else {
            throw HerodotError.badRequest("The page token is invalid, do not craft your own page tokens")
        }
        let found = state.identities(identifier: identifier, after: token.lowercased(), limit: size + 1)
        let page = found.prefix(size)
        var links = [link(identifier: identifier, token: Self.firstPageToken, size: size, rel: "first")]
        if found.count > size, let last = page.last {
            links.append(link(identifier: identifier, token: last.id, size: size, rel: "next"))
        }
        var body = ByteBuffer()
        body.writeString("[")
        for (index, identity) in page.enumerated() {
            if index > 0 { body.writeString(",") }
            var bytes = identity.body
            body.writeBuffer(&bytes)
        }
        body.writeString("]")
        var headers = HTTPFields()
        headers[JSONResponse.linkHeader] = links.joined(separator: ",")
        return JSONResponse.make(.ok, body: body, headers: headers)
    }

    /// One entry of Kratos's keyset `Link` header.
    private func link(identifier: String?, token: String, size: Int, rel: String) -> String {
        var pairs = ["page_size": String(size), "page_token": token]
        if let identifier { pairs["credentials_identifier"] = identifier }
        return "</admin/identities?\(GoTime.encodeQuery(pairs))>; rel=\"\(rel)\""
    }

    private func create(_ request: Request, context: StandInRequestContext) async throws -> Response {
        let body = try await JSONResponse.decodeBody(request, context: context)
        guard case .object = body else {
            throw HerodotError.badRequest("Unable to decode JSON payload: expected a JSON object")
        }
        guard let schemaID = body["schema_id"]?.stringValue, !schemaID.isEmpty else {
            throw HerodotError.badRequest("Unable to find JSON Schema ID: ")
        }
        guard case .object? = body["traits"] else {
            throw HerodotError.badRequest("Unable to decode JSON payload: \"traits\" must be a JSON object")
        }
        let document = NewIdentity(body: body, schemaID: schemaID, publicURL: publicURL).document
        let identity = try StoredIdentity(document: document)
        if state.insert(identity) != nil {
            throw HerodotError.conflict("This identity conflicts with another identity that already exists.")
        }
        var headers = HTTPFields()
        headers[.location] = "/admin/identities/" + identity.id
        return JSONResponse.make(.created, body: identity.body, headers: headers)
    }
}

extension StoredIdentity.Invalid: HTTPResponseError {
    var status: HTTPResponse.Status { .badRequest }
    func response(from request: Request, context: some RequestContext) throws -> Response {
        guard case .reason(let reason) = self else { return Response(status: .badRequest) }
        return HerodotError.badRequest(reason).response
    }
}
