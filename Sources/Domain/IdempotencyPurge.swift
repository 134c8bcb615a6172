import Foundation
import Logging
import ServiceLifecycle
import Store

/// Deletes expired idempotency records now and then, so the table holds only the window's keys.
public struct IdempotencyPurge: Service {
    let store: any GatewayStore
    let interval: Duration
    let logger: Logger

    public init(store: any GatewayStore, interval: Duration = .seconds(600), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let purged = try await store.purgeIdempotency(before: Date())
                if purged > 0 { logger.info("purged expired idempotency keys", metadata: ["count": "\(purged)"]) }
            } catch {
                logger.warning("cannot purge idempotency keys", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
