import AsyncHTTPClient
import Audit
import Foundation
import GatewayConfiguration
import JSONValue
import Kratos
import KratosStandIn
import Logging
import Mail
import SQLiteStore
import Server
import Store
import Templates
import TestSupport
import Testing

@testable import Domain

/// The worker's handling of one leased delivery, with the real store (SQLite), the stand-in and
/// postfix's smtp-sink (whose options inject the SMTP failures).
@Suite("Delivery worker", .serialized)
struct DeliveryWorkerTests {
    struct Parts {
        let store: SQLiteStore
        let accept: AcceptService
        let worker: DeliveryWorker
    }

    func withParts(sinkOptions: [String], _ body: @Sendable (Parts) async throws -> Void) async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sink = try await SMTPSink.start(options: sinkOptions)
        defer { sink.stop() }
        let chain = AuditChain(key: .random())
        let store = try SQLiteStore(path: directory.appendingPathComponent("gateway.sqlite").path, chain: chain)
        try await store.migrate()
        let transport = try SMTPTransport(
            configuration: SMTPConfiguration(url: "smtp://127.0.0.1:\(sink.port)/?disable_starttls=true"),
            connections: 1
        )
        let templates = try shippedTemplates()
        let settings = try GatewaySettings.forTests()
        try await withStandIn { _, adminURL in
            let kratos = KratosClient(configuration: try KratosConfiguration(adminURL: adminURL), httpClient: .shared)
            let dispatcher = DeliveryDispatcher(
                recovery: RecoveryComposer(issuer: kratos, templates: templates, from: settings.from),
                mail: transport
            )
            let parts = Parts(
                store: store,
                accept: AcceptService(
                    settings: settings,
                    store: store,
                    kratos: kratos,
                    templates: templates,
                    chain: chain,
                    signal: DeliverySignal()
                ),
                worker: DeliveryWorker(
                    settings: settings,
                    store: store,
                    dispatcher: dispatcher,
                    chain: chain,
                    signal: DeliverySignal(),
                    logger: Logger(label: "test")
                )
            )
            try await body(parts)
        }
        await transport.shutdown()
    }

    /// Accepts one request for foobar@ory.sh's identity, leases it and runs one attempt.
    func attemptOne(_ parts: Parts) async throws -> Delivery {
        let body: JSONValue = .object(["identity_id": .string("a251ebc2-880c-4f76-a8f3-38e6940eab0e")])
        let answer = try await parts.accept.accept(
            body: body,
            idempotencyKey: "k",
            caller: Caller(name: "backend", scopes: [.send])
        )
        let leased = try await parts.store.leaseDue(now: Date(), limit: 1, leaseFor: 60)
        try #require(leased.map(\.id) == [answer.deliveryID])
        await parts.worker.process(leased[0])
        return try #require(try await parts.store.delivery(id: answer.deliveryID))
    }

    @Test func sentIsRecordedWithTheServersReply() async throws {
        try await withParts(sinkOptions: []) { parts in
            let record = try await attemptOne(parts)
            #expect(record.status == .sent)
            #expect(record.smtpReply?.hasPrefix("250 ") == true)
            let events = try await parts.store.auditEvents(afterSeq: 0, limit: 10)
            #expect(events.map(\.action) == [.emailRequested, .emailSent])
            #expect(events.last?.recipientMasked == "f***@o***.sh")
        }
    }

    @Test func aTransientFailureIsRetriedLater() async throws {
        try await withParts(sinkOptions: ["-r", "RCPT"]) { parts in
            let record = try await attemptOne(parts)
            #expect(record.status == .retrying)
            #expect(record.attempts == 1)
            #expect(record.lastErrorClass == .transient)
            #expect((record.nextAttemptAt ?? .distantPast) > Date())
            let events = try await parts.store.auditEvents(afterSeq: 0, limit: 10)
            #expect(events.map(\.action) == [.emailRequested, .emailAttemptFailed])
        }
    }

    @Test func aPermanentRefusalFailsAndTheAddressInItIsMasked() async throws {
        let reply = "550 5.1.1 <foobar@ory.sh>: Recipient address rejected"
        try await withParts(sinkOptions: ["-f", "RCPT", "-B", reply]) { parts in
            let record = try await attemptOne(parts)
            #expect(record.status == .failed)
            #expect(record.failure == .rejected)
            #expect(record.lastError?.contains("<f***@o***.sh>: Recipient address rejected") == true)
            let events = try await parts.store.auditEvents(afterSeq: 0, limit: 10)
            #expect(events.map(\.action) == [.emailRequested, .emailFailed])
            #expect(events.allSatisfy { !"\($0)".contains("foobar@ory.sh") })
        }
    }
}
