import Domain
import Hummingbird
import Logging
import NIOCore

/// The per-request state of the gateway's HTTP API: the request id (echoed in `X-Request-Id`),
/// the client's address (for the audit log) and the authenticated caller.
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``RequestIDMiddleware`` before any route runs.
    public var requestID = ""
    /// The peer's address, or behind a trusted proxy the client's it forwarded
    /// (``ClientAddressMiddleware``).
    public internal(set) var sourceIP: String?
    /// Who is asking: set by ``APIKeyAuthenticator`` when the request carries a known API key;
    /// every route but the public ones runs behind a ``RequireScopeMiddleware`` that needs it.
    public var caller: Caller?
    /// What a route adds to the request's log line (a delivery id, a masked recipient).
    public let logFields = RequestLogFields()
    /// When the request reached the router (``HTTPMetricsMiddleware`` sets it): where an accept's
    /// `read_parse` phase begins.
    package var received: ContinuousClock.Instant?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        sourceIP = source.channel.remoteAddress?.ipAddress
    }

    /// The caller `name` with `scopes`, asking from this request's peer under its id (the API's
    /// key and the console's session alike).
    package func caller(name: String, scopes: Set<Scope>) -> Caller {
        Caller(name: name, scopes: scopes, sourceIP: sourceIP, requestID: requestID)
    }

    /// The answer to a store call that failed (503 `store_unavailable`, as for any store error),
    /// with the error logged here, once, under the request's id. A ``StoreError`` names no secret
    /// and no address; the caller sees none of it.
    package func storeUnavailable(_ error: any Error) -> Problem {
        logger.error("store failed", metadata: ["error": "\(error)"])
        return .storeUnavailable
    }
}
