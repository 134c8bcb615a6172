import CoreMetrics
import GoDuration
import Store
import Synchronization

/// Records what the gateway does as swift-metrics counters, timers and gauges, made by an explicit
/// factory (one per runtime, so that many gateways can run in one process without the global
/// `MetricsSystem`). ``disabled`` records nothing.
///
/// The phase histograms (``AcceptPhase``, ``DeliveryPhase``) are made once, here: an observation
/// on the hot path is then one histogram's update, not a lookup of the metric by its labels.
public struct GatewayMetrics: Sendable {
    let factory: any MetricsFactory
    /// One timer per ``AcceptPhase``, in the order of its cases.
    private let acceptPhases: [CoreMetrics.Timer]
    /// One timer per ``DeliveryPhase``, in the order of its cases.
    private let deliveryPhases: [CoreMetrics.Timer]
    /// The counters and timers of the labelled metrics, made once per set of labels.
    private let counters = HandleCache<CoreMetrics.Counter>()
    private let timers = HandleCache<CoreMetrics.Timer>()
    /// The counter and timer of each HTTP request's labels, found by one lookup for both.
    private let requests = HandleCache<RequestHandles>()

    /// Metrics made by `factory`.
    public init(factory: any MetricsFactory) {
        self.factory = factory
        acceptPhases = AcceptPhase.allCases.map { phase in
            CoreMetrics.Timer(
                label: GatewayMetric.acceptPhaseDuration.rawValue,
                dimensions: [("phase", phase.label)],
                factory: factory
            )
        }
        deliveryPhases = DeliveryPhase.allCases.map { phase in
            CoreMetrics.Timer(
                label: GatewayMetric.deliveryPhaseDuration.rawValue,
                dimensions: [("phase", phase.label)],
                factory: factory
            )
        }
    }

    /// Records nothing.
    public static let disabled = GatewayMetrics(factory: NOOPMetricsHandler.instance)

    /// Records one accept's `phase`.
    public func time(_ phase: AcceptPhase, _ duration: Duration) {
        acceptPhases[phase.rawValue].recordNanoseconds(duration.clampedNanoseconds)
    }

    /// Records one delivery attempt's `phase`.
    public func time(_ phase: DeliveryPhase, _ duration: Duration) {
        deliveryPhases[phase.rawValue].recordNanoseconds(duration.clampedNanoseconds)
    }

    /// The group commit's observer that times the accepts' wait for their transaction and its
    /// commit (``AcceptPhase/groupCommitWait``, ``AcceptPhase/commitFlush``); the other writes'
    /// are in the phases that include them (``DeliveryPhase/outcomeCommit``).
    public var groupCommitObserver: GroupCommitObserver {
        GroupCommitObserver { [self] kind, waited, committed in
            guard kind == .accept else { return }
            time(.groupCommitWait, waited)
            time(.commitFlush, committed)
        }
    }

    /// Adds one to the counter `metric` with these labels.
    public func count(_ metric: GatewayMetric, _ labels: [(String, String)] = []) {
        counters.handle(metric, labels) {
            CoreMetrics.Counter(label: metric.rawValue, dimensions: labels, factory: factory)
        }
        .increment()
    }

    /// Records one observation of the histogram `metric`.
    public func time(_ metric: GatewayMetric, _ labels: [(String, String)] = [], _ duration: Duration) {
        timers.handle(metric, labels) {
            CoreMetrics.Timer(label: metric.rawValue, dimensions: labels, factory: factory)
        }
        .recordNanoseconds(duration.clampedNanoseconds)
    }

    /// Counts one HTTP request (``GatewayMetric/httpRequests``) and records its duration
    /// (``GatewayMetric/httpRequestDuration``), both with `labels`: one lookup of the labels for the
    /// two, as every request pays it.
    public func request(_ labels: [(String, String)], _ duration: Duration) {
        let handles = requests.handle(.httpRequests, labels) {
            RequestHandles(
                counter: CoreMetrics.Counter(
                    label: GatewayMetric.httpRequests.rawValue,
                    dimensions: labels,
                    factory: factory
                ),
                timer: CoreMetrics.Timer(
                    label: GatewayMetric.httpRequestDuration.rawValue,
                    dimensions: labels,
                    factory: factory
                )
            )
        }
        handles.counter.increment()
        handles.timer.recordNanoseconds(duration.clampedNanoseconds)
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

/// The counters or timers made so far, by metric and labels. Making one through the factory costs
/// the factory's checks each time (swift-prometheus validates the name and every label, sorts the
/// labels and hashes them under its lock: some 10k instructions, twice for every HTTP request); a
/// lookup here hashes a few short strings. The labels are bounded (route patterns, status codes,
/// outcomes), and so is what is kept.
private final class HandleCache<Handle: Sendable>: Sendable {
    /// A metric and its labels, flattened name, value, name, value.
    struct Key: Hashable {
        let metric: GatewayMetric
        let labels: [String]

        init(_ metric: GatewayMetric, _ labels: [(String, String)]) {
            self.metric = metric
            self.labels = labels.flatMap { [$0.0, $0.1] }
        }
    }

    private let handles = Mutex<[Key: Handle]>([:])

    /// The handle of `metric` with `labels`, made by `make` the first time.
    func handle(_ metric: GatewayMetric, _ labels: [(String, String)], make: () -> Handle) -> Handle {
        let key = Key(metric, labels)
        return handles.withLock { handles in
            if let handle = handles[key] { return handle }
            let handle = make()
            handles[key] = handle
            return handle
        }
    }
}

/// The two metrics of one HTTP request's labels.
private struct RequestHandles: Sendable {
    let counter: CoreMetrics.Counter
    let timer: CoreMetrics.Timer
}
