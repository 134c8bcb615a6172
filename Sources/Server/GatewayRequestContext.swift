import Gateway
import Hummingbird
import NIOCore

/// The per-request state of the gateway's HTTP API: the request id (echoed in `X-Request-Id`),
/// the peer's address (for the audit log) and the authenticated caller.
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``RequestIDMiddleware`` before any route runs.
    public var requestID = ""
    public let sourceIP: String?
    /// Who is asking: set by ``APIKeyAuthenticator`` when the request carries a known API key;
    /// every route but the public ones runs behind a ``RequireScopeMiddleware`` that needs it.
    public var caller: Caller?
    /// What a route adds to the request's log line (a delivery id, a masked recipient).
    public let logFields = RequestLogFields()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        sourceIP = source.channel.remoteAddress?.ipAddress
    }
}
