import Logging
import Synchronization

/// Fields a route adds to its request's log line. The request context is a value the router
/// copies on its way in, so the route's additions travel back to ``AccessLogMiddleware`` in this
/// shared box.
public final class RequestLogFields: Sendable {
    private let fields = Mutex<Logger.Metadata>([:])

    public init() {}

    /// Adds `metadata` (never a secret or a full address: mask recipients first).
    public func add(_ metadata: Logger.Metadata) {
        fields.withLock { $0.merge(metadata) { $1 } }
    }

    /// Everything added so far.
    public var all: Logger.Metadata { fields.withLock { $0 } }
}
