import AsyncHTTPClient
import Foundation
import Kratos
import KratosStandIn
import Mail
import Store
import Templates
import TestSupport
import Testing

@testable import Domain

/// The real parts: the stand-in, aiosmtpd, the shipped templates, libcurl.
@Suite("One delivery attempt against the stand-in and a real SMTP server", .serialized)
struct RecoverySenderTests {
    static let identity = "a251ebc2-880c-4f76-a8f3-38e6940eab0e"  // foobar@ory.sh in the default set

    func withSender(
        templatesDirectory: String = repositoryRoot.appendingPathComponent("templates").path,
        _ body: @Sendable (DeliveryDispatcher, KratosStandIn, AiosmtpdServer) async throws -> Void
    ) async throws {
        let server = try await AiosmtpdServer.start()
        defer { server.stop() }
        let transport = try SMTPTransport(
            configuration: SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)/?disable_starttls=true"),
            connections: 1
        )
        let templates = try TemplateCatalog.load(directory: templatesDirectory, defaultLocale: "en")
        try await withStandIn { standIn, adminURL in
            let kratos = KratosClient(configuration: try KratosConfiguration(adminURL: adminURL), httpClient: .shared)
            let sender = DeliveryDispatcher(
                recovery: RecoveryComposer(
                    issuer: kratos,
                    templates: templates,
                    from: try Mailbox(displayName: "Example", address: EmailAddress("no-reply@example.com"))
                ),
                mail: transport
            )
            try await body(sender, standIn, server)
        }
        await transport.shutdown()
    }

    func job(
        method: RecoveryMethod,
        locale: String? = nil,
        deadline: Date = Date() + 3600,
        identityID: String = Self.identity
    ) throws -> Delivery {
        Delivery(
            id: UUID(),
            status: .sending,
            recipient: "foobar@ory.sh",
            content: .recovery(
                RecoveryOrder(
                    identityID: try #require(UUID(uuidString: identityID)),
                    method: method,
                    template: method == .link ? "recovery" : "recovery_code",
                    locale: locale,
                    expiresIn: "1h"
                )
            ),
            deadline: deadline,
            messageID: try MessageID("<fixed-\(method.rawValue)@example.com>"),
            actor: "backend",
            createdAt: Date()
        )
    }

    @Test func aLinkIsCreatedAtSendTimeAndArrives() async throws {
        try await withSender { sender, standIn, server in
            let receipt = try await sender.attempt(try job(method: .link, locale: "de-CH")).get()
            #expect(receipt.reply.hasPrefix("250 "))
            let issued = try #require(standIn.state.issued.first)
            #expect(standIn.state.issued.count == 1)
            #expect(issued.method == "link")
            let message = try #require(try server.messages().first)
            let parsed = try await ParsedMessage.parse(message.raw)
            #expect(parsed.header("Message-ID") == "<fixed-link@example.com>")
            #expect(parsed.header("To") == "foobar@ory.sh")
            // The German template (de-CH falls back to de), with the very link Kratos issued.
            #expect(parsed.text?.contains(issued.recoveryLink) == true)
            #expect(parsed.html?.contains(issued.recoveryLink.replacingOccurrences(of: "&", with: "&amp;")) == true)
            #expect(parsed.header("Subject")?.isEmpty == false)
            // The link lives until the delivery's deadline, not a fixed hour from now.
            #expect(issued.expiresIn.map { $0.hasPrefix("59m") || $0.hasPrefix("1h") } == true)
        }
    }

    @Test func aCodeArrivesInTextAndHTML() async throws {
        try await withSender { sender, standIn, server in
            _ = try await sender.attempt(try job(method: .code)).get()
            let code = try #require(standIn.state.issued.first?.recoveryCode)
            let parsed = try await ParsedMessage.parse(try #require(try server.messages().first).raw)
            #expect(parsed.text?.contains(code) == true)
            #expect(parsed.html?.contains(code) == true)
        }
    }

    @Test func aDeletedIdentityIsGone() async throws {
        try await withSender { sender, standIn, server in
            let gone = try job(method: .link, identityID: "11111111-2222-4333-8444-555555555555")
            let error = try #require(await sender.attempt(gone).failureValue)
            #expect(error.errorClass == .permanent)
            #expect(error.failure == .identityGone)
            #expect(try server.messages().isEmpty)
        }
    }

    @Test func nothingIsSentAfterTheDeadline() async throws {
        try await withSender { sender, standIn, server in
            let late = try job(method: .link, deadline: Date() + 30)
            let error = try #require(await sender.attempt(late).failureValue)
            #expect(error.failure == .expired)
            #expect(standIn.state.issued.isEmpty)
            #expect(try server.messages().isEmpty)
        }
    }

    @Test func kratosDownIsTransient() async throws {
        try await withSender { sender, standIn, server in
            standIn.state.inject(InjectedFault(path: "/admin/recovery/link", count: 1, status: 503))
            let error = try #require(await sender.attempt(try job(method: .link)).failureValue)
            #expect(error.errorClass == .transient)
            #expect(error.source == "kratos")
            #expect(try server.messages().isEmpty)
        }
    }

    @Test func theIdentityIsFetchedOnlyForATemplateThatPrintsIt() async throws {
        // The shipped templates print no trait: a failing identity lookup does not matter.
        try await withSender { sender, standIn, server in
            standIn.state.inject(InjectedFault(path: "/admin/identities/*", count: 5, status: 503))
            _ = try await sender.attempt(try job(method: .link)).get()
            #expect(try server.messages().count == 1)
        }
        // A template that greets the user by a trait needs the identity.
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let english = directory.appendingPathComponent("recovery/en")
        try FileManager.default.createDirectory(at: english, withIntermediateDirectories: true)
        try "Recover your account".write(
            to: english.appendingPathComponent("subject.mustache"),
            atomically: true,
            encoding: .utf8
        )
        try "Hello {{Identity.traits.email}}, open {{RecoveryURL}}\n".write(
            to: english.appendingPathComponent("body.txt.mustache"),
            atomically: true,
            encoding: .utf8
        )
        try await withSender(templatesDirectory: directory.path) { sender, standIn, server in
            let sent = try await sender.attempt(try job(method: .link)).get()
            #expect(sent.code == 250)
            let text = try await ParsedMessage.parse(try #require(try server.messages().first).raw).text
            #expect(text?.hasPrefix("Hello foobar@ory.sh, open http") == true)
            standIn.state.inject(InjectedFault(path: "/admin/identities/*", count: 1, status: 503))
            let error = try #require(await sender.attempt(try job(method: .link)).failureValue)
            #expect(error.errorClass == .transient)
        }
    }
}

extension Result {
    var failureValue: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
