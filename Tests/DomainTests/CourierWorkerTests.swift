import AsyncHTTPClient
import Audit
import CourierInbox
import Foundation
import Kratos
import Logging
import Mail
import SQLiteStore
import Server
import Store
import Templates
import TestSupport
import Testing

@testable import Domain

/// A courier message from the receiver through the worker to aiosmtpd, with the real store (SQLite)
/// and no Kratos at all: the Kratos client points at a closed port, so any call would fail.
@Suite("Courier worker", .serialized)
struct CourierWorkerTests {
    static let fixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures/kratos-courier")

    struct Parts {
        let store: SQLiteStore
        let receiver: CourierReceiver
        let worker: DeliveryWorker
        let smtp: AiosmtpdServer
    }

    /// The parts; the worker opens payloads with `workerKey` (the receiver's key unless given).
    func withParts(
        workerKey: CourierPayloadKey? = nil,
        receivedAt: @escaping @Sendable () -> Date = { Date() },
        _ body: @Sendable (Parts) async throws -> Void
    ) async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let smtp = try await AiosmtpdServer.start()
        defer { smtp.stop() }
        let chain = AuditChain(key: .random())
        let store = try SQLiteStore(path: directory.appendingPathComponent("gateway.sqlite").path, chain: chain)
        try await store.migrate()
        let transport = try SMTPTransport(
            configuration: SMTPConfiguration(url: "smtp://127.0.0.1:\(smtp.port)/?disable_starttls=true"),
            connections: 1
        )
        let settings = try GatewaySettings.forTests()
        let key = try #require(CourierPayloadKey(bytes: Array(repeating: 3, count: 32)))
        let composer = CourierComposer(catalog: try shippedTemplates(), localePolicy: try CourierLocalePolicy())
        let nowhere = "http://127.0.0.1:\(try freeLoopbackPort())"
        let kratos = KratosClient(configuration: try KratosConfiguration(adminURL: nowhere), httpClient: .shared)
        let parts = Parts(
            store: store,
            receiver: CourierReceiver(
                settings: settings,
                store: store,
                composer: composer,
                payloadKey: key,
                deduplicator: CourierDeduplicator(key: key.deduplicationKey),
                chain: chain,
                maxAge: .seconds(3_600),
                dedupRetention: .seconds(86_400),
                // The fixtures' Kratos.
                links: CourierLinkPolicy(origins: [try #require(LinkOrigin(url: "https://auth.example.com"))]),
                limits: CourierLimits(
                    ratePerKey: 1_000,
                    burstPerKey: 1_000,
                    recipientLimit: 1_000,
                    recipientWindow: .seconds(60)
                ),
                signal: DeliverySignal(),
                now: receivedAt
            ),
            worker: DeliveryWorker(
                settings: settings,
                store: store,
                dispatcher: DeliveryDispatcher(
                    recovery: RecoveryComposer(issuer: kratos, templates: try shippedTemplates(), from: settings.from),
                    courier: CourierMessageComposer(
                        payloadKey: workerKey ?? key,
                        composer: composer,
                        from: settings.from
                    ),
                    mail: transport
                ),
                chain: chain,
                signal: DeliverySignal(),
                logger: Logger(label: "test")
            ),
            smtp: smtp
        )
        try await body(parts)
        await transport.shutdown()
    }

    /// Posts `set/type`, leases it and runs one attempt.
    func attemptOne(_ parts: Parts, _ type: String, set: String = "ctx-v26.2") async throws -> Delivery {
        let json = try Data(contentsOf: Self.fixtures.appendingPathComponent("\(set)/\(type).json"))
        let answer = try await parts.receiver.receive(
            json: json,
            caller: Caller(name: "kratos", scopes: [.courierKratos])
        )
        let leased = try await parts.store.leaseDue(now: Date(), limit: 1, leaseFor: 60)
        try #require(leased.map(\.id) == [answer.deliveryID])
        #expect(leased[0].sealedPayload != nil)
        await parts.worker.process(leased[0])
        return try #require(try await parts.store.delivery(id: answer.deliveryID))
    }

    @Test func aCourierMessageIsSentLocalizedWithoutKratos() async throws {
        try await withParts { parts in
            let record = try await attemptOne(parts, "login_code_valid")
            #expect(record.status == .sent, "\(record.lastError ?? "")")
            #expect(record.sealedPayload == nil)
            #expect(record.source == .kratosCourier && record.templateType?.rawValue == "login_code_valid")
            let message = try #require(try parts.smtp.messages().first)
            let raw = String(decoding: message.raw, as: UTF8.self)
            #expect(raw.contains("Content-Language: de\r\n"))
            #expect(raw.contains("508217"))
            #expect(raw.contains("Message-ID: \(record.messageID)"))
            let events = try await parts.store.auditEvents(afterSeq: 0, limit: 10)
            #expect(events.map(\.action) == [.emailRequested, .emailSent])
            #expect(events.allSatisfy { $0.details["template_type"] == "login_code_valid" })
            #expect(events.allSatisfy { !"\($0)".contains("508217") && !"\($0)".contains("lena.schmidt@") })
        }
    }

    @Test func aPayloadSealedUnderAnotherKeyFailsForGoodAndIsDropped() async throws {
        let other = try #require(CourierPayloadKey(bytes: Array(repeating: 9, count: 32)))
        try await withParts(workerKey: other) { parts in
            let record = try await attemptOne(parts, "recovery_valid")
            #expect(record.status == .failed)
            #expect(record.failure == .rejected)
            #expect(record.lastError?.contains("does not open with this key") == true)
            #expect(record.sealedPayload == nil)
            #expect(try parts.smtp.messages().isEmpty)
        }
    }

    @Test func aMessagePastItsLifetimeIsNeverSent() async throws {
        // Received an hour ago with a 15-minute lifetime.
        let anHourAgo: @Sendable () -> Date = { Date().addingTimeInterval(-3_600) }
        try await withParts(receivedAt: anHourAgo) { parts in
            let record = try await attemptOne(parts, "recovery_code_valid")
            #expect(record.status == .failed)
            #expect(record.failure == .expired)
            #expect(record.sealedPayload == nil)
            #expect(try parts.smtp.messages().isEmpty)
        }
    }
}
