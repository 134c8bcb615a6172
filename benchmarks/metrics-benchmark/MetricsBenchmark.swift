import Domain
import Foundation
import Prometheus
import Server

/// What recording metrics costs the gateway per email: the nineteen records one accepted and sent
/// email makes (request count and time, attempt, finished, SMTP time, two Kratos times, and the
/// seven accept and five delivery phases, whose timers are made once) through the
/// gateway's Prometheus factory, against the same records with metrics disabled, on one task and on
/// two concurrent ones; and the time to render the /metrics page. Prints one line of figures.
///
/// Usage: metrics-benchmark [EMAILS=200000]
@main
enum MetricsBenchmark {
    static func main() async {
        let emails = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200_000 : 200_000
        let registry = PrometheusCollectorRegistry()
        let live = GatewayMetrics(factory: PrometheusGatewayFactory(registry: registry))
        _ = record(live, 1000)
        _ = record(.disabled, 1000)
        let liveOne = record(live, emails)
        let offOne = record(.disabled, emails)
        let liveTwo = await concurrently(live, emails)
        let offTwo = await concurrently(.disabled, emails)
        let renders = 2000
        var bytes = 0
        let started = ContinuousClock.now
        for _ in 0..<renders { bytes = registry.emitToBuffer().count }
        let render = (ContinuousClock.now - started) / renders
        print(
            "emails=\(emails) per_email_ns live=\(ns(liveOne / emails)) disabled=\(ns(offOne / emails))"
                + " two_tasks live=\(ns(liveTwo / emails)) disabled=\(ns(offTwo / emails))"
                + " scrape_render_us=\(ns(render) / 1000) page_bytes=\(bytes)"
        )
    }

    static func record(_ metrics: GatewayMetrics, _ emails: Int) -> Duration {
        let request = [("method", "POST"), ("route", "/v1/recovery-emails"), ("status", "202")]
        let started = ContinuousClock.now
        for _ in 0..<emails {
            metrics.count(.httpRequests, request)
            metrics.time(.httpRequestDuration, request, .milliseconds(3))
            metrics.count(.deliveryAttempts, [("outcome", "sent"), ("error_class", "none")])
            metrics.count(.deliveriesFinished, [("outcome", "sent"), ("failure", "none")])
            metrics.time(.smtpSendDuration, [("result", "ok")], .milliseconds(2))
            metrics.time(.kratosRequestDuration, [("operation", "get_identity"), ("result", "ok")], .milliseconds(1))
            metrics.time(
                .kratosRequestDuration,
                [("operation", "create_recovery_link"), ("result", "ok")],
                .milliseconds(1)
            )
            for phase in AcceptPhase.allCases { metrics.time(phase, .microseconds(300)) }
            for phase in DeliveryPhase.allCases { metrics.time(phase, .microseconds(700)) }
        }
        return ContinuousClock.now - started
    }

    /// The same emails split over two tasks (the registry's lock under contention); wall time.
    static func concurrently(_ metrics: GatewayMetrics, _ emails: Int) async -> Duration {
        let started = ContinuousClock.now
        await withTaskGroup(of: Duration.self) { group in
            for _ in 0..<2 { group.addTask { record(metrics, emails / 2) } }
            for await _ in group {}
        }
        return ContinuousClock.now - started
    }

    static func ns(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}
