import Gateway
import GatewayConfiguration
import HTTPTypes
import Hummingbird

/// Finds the API key behind `Authorization: Bearer <key>` among the configured ones (which are
/// kept as SHA-256 hashes, never the keys themselves) and checks its scope.
package struct APIKeyAuthenticator: Sendable {
    let configuration: GatewayConfiguration

    package init(configuration: GatewayConfiguration) { self.configuration = configuration }

    /// The caller, if the key is known and has `scope`; else a 401 or 403 problem.
    func caller(_ request: Request, context: GatewayRequestContext, needs scope: Scope) throws(Problem) -> Caller {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            let key = configuration.apiKey(matching: String(header.dropFirst("Bearer ".count)))
        else { throw .unauthorized() }
        guard key.allows(scope) else { throw .forbidden(scope.rawValue) }
        return Caller(name: key.name, scopes: key.scopes, sourceIP: context.sourceIP, requestID: context.requestID)
    }
}
