import Foundation
import HTTPTypes
import HummingbirdTesting
import KratosStandIn
import NIOCore
import TestSupport
import Testing

/// `GET /metrics` in-process, against the real parts: sends that succeed, retry, fail and replay,
/// then the page parsed as Prometheus's text format and its figures checked.
@Suite("Prometheus metrics")
struct MetricsTests {
    static let identity = "a251ebc2-880c-4f76-a8f3-38e6940eab0e"
    static let prefix = "recovery_gateway_"

    @Test func scrapeCountsWhatHappened() async throws {
        try await withGateway { client, standIn, _ in
            // Sent at once; then a code Kratos answers 404 (the identity is gone: failed); then a
            // link Kratos fails once with 503 (retried, sent); then a replay of the first.
            let first = try await send(client, key: "m-1", method: "link")
            #expect(first.object["status"] as? String == "sent")
            standIn.state.inject(InjectedFault(path: "/admin/recovery/code", count: 1, status: 404))
            let gone = try await send(client, key: "m-2", method: "code")
            #expect(gone.object["failure"] as? String == "identity_gone")
            standIn.state.inject(InjectedFault(path: "/admin/recovery/link", count: 1, status: 503))
            let retried = try await send(client, key: "m-3", method: "link")
            #expect(retried.object["status"] as? String == "sent")
            #expect(retried.object["attempts"] as? Int == 2)
            let replay = try await send(client, key: "m-1", method: "link", wait: false)
            #expect(replay.headers[.init("Idempotent-Replayed")!] == "true")
            let id = try #require(first.object["id"] as? String)
            _ = try await client.call(.get, "/v1/recovery-emails/\(id)")
            _ = try await client.call(.get, "/v1/no-such-thing/\(id)")
            let verified = try await client.call(.get, "/v1/audit-events/verify")
            let events = try #require(verified.object["events"] as? Int)

            let scrape = try await client.call(.get, "/metrics", key: nil)
            #expect(scrape.status == .ok)
            #expect(scrape.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            let page = try PrometheusText(String(buffer: scrape.body))
            let p = Self.prefix

            let posts = ["method": "POST", "route": "/v1/recovery-emails"]
            #expect(page.value(p + "http_requests_total", posts.merging(["status": "200"]) { $1 }) == 3)
            #expect(page.value(p + "http_requests_total", posts.merging(["status": "202"]) { $1 }) == 1)
            #expect(page.sum(p + "http_requests_total", where: ["route": "unmatched", "status": "404"]) == 1)
            #expect(page.sum(p + "http_request_duration_seconds_count", where: posts) == 4)
            let shown = page.samples.filter { $0.name == p + "http_requests_total" && $0.labels["method"] == "GET" }
            #expect(shown.contains { $0.labels["route"]?.hasPrefix("/v1/recovery-emails/") == true })

            let attempts = p + "delivery_attempts_total"
            #expect(page.value(attempts, ["outcome": "sent", "error_class": "none"]) == 2)
            #expect(page.value(attempts, ["outcome": "retry", "error_class": "transient"]) == 1)
            #expect(page.value(attempts, ["outcome": "failed", "error_class": "permanent"]) == 1)
            let finished = p + "deliveries_finished_total"
            #expect(page.value(finished, ["outcome": "sent", "failure": "none"]) == 2)
            #expect(page.value(finished, ["outcome": "failed", "failure": "identity_gone"]) == 1)
            #expect(page.value(p + "idempotent_replays_total") == 1)

            #expect(page.value(p + "smtp_send_duration_seconds_count", ["result": "ok"]) == 2)
            let kratos = p + "kratos_request_duration_seconds_count"
            #expect(page.value(kratos, ["operation": "create_recovery_link", "result": "ok"]) == 2)
            #expect(page.value(kratos, ["operation": "create_recovery_link", "result": "transient"]) == 1)
            #expect(page.value(kratos, ["operation": "create_recovery_code", "result": "identity_not_found"]) == 1)
            #expect(page.sum(kratos, where: ["operation": "get_identity", "result": "ok"]) >= 3)

            #expect(page.value(p + "queue_deliveries", ["state": "waiting"]) == 0)
            #expect(page.value(p + "queue_deliveries", ["state": "sending"]) == 0)
            #expect(page.value(p + "queue_oldest_age_seconds") == 0)
            #expect(page.value(p + "audit_head_sequence") == Double(events))

            try checkHistograms(page)
            try checkHelpAndTypes(page)
            // No label carries an address, a link, a code, a key or an id.
            let secrets =
                standIn.state.issued.flatMap { [$0.recoveryLink] + ($0.recoveryCode.map { [$0] } ?? []) }
                + [Keys.backend, Keys.reader, id, Self.identity]
            #expect(standIn.state.issued.count == 2)
            for sample in page.samples {
                for value in sample.labels.values {
                    #expect(!value.contains("@"), "\(sample)")
                    for secret in secrets { #expect(!value.contains(secret), "\(sample)") }
                }
            }

            // A later scrape follows the audit chain and the counters from where they were.
            let fourth = try await send(client, key: "m-4", method: "code")
            #expect(fourth.object["status"] as? String == "sent")
            let again = try PrometheusText(String(buffer: try await client.call(.get, "/metrics", key: nil).body))
            #expect(again.value(p + "audit_head_sequence") == Double(events + 2))
            #expect(again.value(attempts, ["outcome": "sent", "error_class": "none"]) == 3)
        }
    }

    /// One email accepted and sent: every phase of the accept and of the delivery is on the page,
    /// observed at least once (what each took is the machine's, and not checked).
    @Test func phasesOfOneAcceptAndDeliveryAreTimed() async throws {
        try await withGateway { client, _, _ in
            let sent = try await send(client, key: "phases-1", method: "link")
            #expect(sent.object["status"] as? String == "sent")
            let page = try PrometheusText(String(buffer: try await client.call(.get, "/metrics", key: nil).body))
            let p = Self.prefix
            let accept = [
                "read_parse", "idempotency_read", "rate_limit", "kratos_lookup", "group_commit_wait", "commit_flush",
                "answer",
            ]
            for phase in accept {
                #expect(page.value(p + "accept_phase_seconds_count", ["phase": phase]) ?? 0 >= 1, "\(phase)")
            }
            for phase in ["lease_wait", "kratos", "render", "smtp", "outcome_commit"] {
                #expect(page.value(p + "delivery_phase_seconds_count", ["phase": phase]) ?? 0 >= 1, "\(phase)")
            }
            #expect(page.types[p + "accept_phase_seconds"] == "histogram")
            #expect(page.types[p + "delivery_phase_seconds"] == "histogram")
            let labelled = page.samples.filter { $0.name.hasPrefix(p + "accept_phase_seconds") }
            #expect(Set(labelled.compactMap { $0.labels["phase"] }) == Set(accept))
        }
    }

    @Test func gatewaysInOneProcessKeepTheirOwnFigures() async throws {
        try await withGateway { busy, _, _ in
            try await withGateway { idle, _, _ in
                let sent = try await send(busy, key: "own-1", method: "link")
                #expect(sent.object["status"] as? String == "sent")
                let p = Self.prefix
                let busyPage = try PrometheusText(String(buffer: try await busy.call(.get, "/metrics", key: nil).body))
                let idlePage = try PrometheusText(String(buffer: try await idle.call(.get, "/metrics", key: nil).body))
                #expect(busyPage.sum(p + "delivery_attempts_total") == 1)
                #expect(idlePage.sum(p + "delivery_attempts_total") == 0)
                #expect(idlePage.value(p + "audit_head_sequence") == 0)
            }
        }
    }

    private func send(
        _ client: any TestClientProtocol,
        key: String,
        method: String,
        wait: Bool = true
    ) async throws -> TestResponse {
        var headers: HTTPFields = [.init("Idempotency-Key")!: key]
        if wait { headers[.init("Prefer")!] = "wait=10" }
        return try await client.call(
            .post,
            "/v1/recovery-emails",
            headers: headers,
            json: #"{"identity_id": "\#(Self.identity)", "method": "\#(method)"}"#
        )
    }

    /// Buckets rise, and the `+Inf` bucket holds every observation.
    private func checkHistograms(_ page: PrometheusText) throws {
        let histograms = page.types.filter { $0.value == "histogram" }.keys
        #expect(histograms.count == 5)
        for name in histograms {
            let series = Dictionary(grouping: page.samples.filter { $0.name == name + "_bucket" }) {
                $0.labels.filter { $0.key != "le" }
            }
            for (labels, buckets) in series {
                let ordered = buckets.sorted { bound($0) < bound($1) }
                #expect(zip(ordered, ordered.dropFirst()).allSatisfy { $0.value <= $1.value }, "\(name)")
                let count = page.value(name + "_count", labels)
                #expect(ordered.last?.labels["le"] == "+Inf")
                #expect(ordered.last?.value == count, "\(name) \(labels)")
            }
        }
    }

    private func bound(_ sample: PrometheusText.Sample) -> Double {
        sample.labels["le"] == "+Inf" ? .infinity : Double(sample.labels["le"] ?? "") ?? .nan
    }

    /// Every family has help text and the type its name promises.
    private func checkHelpAndTypes(_ page: PrometheusText) throws {
        for (name, type) in page.types {
            #expect(page.help[name]?.isEmpty == false, "\(name) has no HELP")
            if name.hasSuffix("_total") { #expect(type == "counter", "\(name)") }
            if name.hasSuffix("_seconds") && type != "gauge" { #expect(type == "histogram", "\(name)") }
        }
    }
}
