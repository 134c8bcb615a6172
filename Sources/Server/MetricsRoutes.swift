import Domain
import Foundation
import Hummingbird
import Logging
import Prometheus
import Store

/// `GET /metrics`: the gateway's metrics in Prometheus's text format (version 0.0.4). The queue
/// figures and the audit chain's head are read from the store at scrape time. No authentication,
/// as Prometheus scrapers expect: the page holds counts only, never an address, a link, a code, a
/// key or an id (block it at the proxy if even counts must stay inside).
package struct MetricsRoutes: Sendable {
    let registry: PrometheusCollectorRegistry
    let metrics: GatewayMetrics
    let store: any GatewayStore
    let now: @Sendable () -> Date

    package init(
        registry: PrometheusCollectorRegistry,
        metrics: GatewayMetrics,
        store: any GatewayStore,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.registry = registry
        self.metrics = metrics
        self.store = store
        self.now = now
    }

    package func add(to router: Router<GatewayRequestContext>) {
        router.get("metrics") { _, context in
            await refresh(logger: context.logger)
            var buffer: [UInt8] = []
            buffer.reserveCapacity(registry.internalBufferCapacity())
            registry.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
    }

    /// Sets the gauges read from the store; on a store error they keep their last values.
    func refresh(logger: Logger) async {
        do {
            let stats = try await store.stats()
            metrics.set(.queueDeliveries, [("state", "waiting")], Double(stats.waiting))
            metrics.set(.queueDeliveries, [("state", "sending")], Double(stats.sending))
            let age = stats.oldestWaitingCreatedAt.map { max(0, now().timeIntervalSince($0)) } ?? 0
            metrics.set(.queueOldestAge, [], age)
            metrics.set(.auditHeadSequence, [], Double(try await store.auditHead()))
        } catch {
            logger.warning("cannot read the queue figures for /metrics", metadata: ["error": "\(error)"])
        }
    }
}
