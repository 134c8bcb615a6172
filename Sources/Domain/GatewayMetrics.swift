import CoreMetrics
import GoDuration
import Store

/// Records what the gateway does as swift-metrics counters, timers and gauges, made by an explicit
/// factory (one per runtime, so that many gateways can run in one process without the global
/// `MetricsSystem`). ``disabled`` records nothing.
public struct GatewayMetrics: Sendable {
    let factory: any MetricsFactory

    /// Metrics made by `factory`.
    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Records nothing.
    public static var disabled: GatewayMetrics { GatewayMetrics(factory: NOOPMetricsHandler.instance) }

    /// Adds one to the counter `metric` with these labels.
    public func count(_ metric: GatewayMetric, _ labels: [(String, String)] = []) {
        CoreMetrics.Counter(label: metric.rawValue, dimensions: labels, factory: factory).increment()
    }

    /// Records one observation of the histogram `metric`.
    public func time(_ metric: GatewayMetric, _ labels: [(String, String)] = [], _ duration: Duration) {
        CoreMetrics.Timer(label: metric.rawValue, dimensions: labels, factory: factory)
            .recordNanoseconds(duration.clampedNanoseconds)
    }

    /// Sets the gauge `metric`.
    public func set(_ metric: GatewayMetric, _ labels: [(String, String)] = [], _ value: Double) {
        CoreMetrics.Gauge(label: metric.rawValue, dimensions: labels, factory: factory).record(value)
    }

    /// One attempt of a delivery and what it led to.
    func attempted(outcome: String, errorClass: DeliveryError.Class?) {
        count(.deliveryAttempts, [("outcome", outcome), ("error_class", errorClass?.rawValue ?? "none")])
    }

    /// A delivery reached its final state: sent, or failed with `failure`.
    func finished(sent: Bool, failure: String?) {
        count(.deliveriesFinished, [("outcome", sent ? "sent" : "failed"), ("failure", failure ?? "none")])
    }
}
