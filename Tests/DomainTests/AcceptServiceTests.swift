import AsyncHTTPClient
import Audit
import Foundation
import GatewayConfiguration
import JSONValue
import Kratos
import KratosStandIn
import Mail
import SQLiteStore
import Server
import Store
import Synchronization
import Templates
import TestSupport
import Testing

@testable import Domain

/// What accepting a request for a recovery email does, case by case: the real store (SQLite), the
/// Kratos stand-in, the shipped templates; a store that fails where a case needs one.
@Suite("Accepting a request (AcceptService)", .serialized)
struct AcceptServiceTests {
    /// Recovery address foobar@ory.sh; logs in as foo1@ory.sh or foobar@ory.sh.
    static let alice = "a251ebc2-880c-4f76-a8f3-38e6940eab0e"
    /// Recovery addresses ada@example.com (first) and ada.lovelace@example.org, both login emails.
    static let ada = "5b4c9a8e-3f1d-4c2a-9e7b-1d2f3a4b5c6d"
    /// A username and no email address at all.
    static let grace = "3d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f70"
    static let backend = Caller(name: "backend", scopes: [.send], sourceIP: "192.0.2.1", requestID: "req-1")

    struct Parts {
        let accept: AcceptService
        let store: SQLiteStore
        let standIn: KratosStandIn

        /// Every delivery stored.
        func deliveries() async throws -> [Delivery] {
            try await store.deliveries(DeliveryQuery(limit: 200)).items
        }

        /// The actions of the audit log, oldest first.
        func auditActions() async throws -> [String] {
            try await store.auditEvents(afterSeq: 0, limit: 100).map(\.action.rawValue)
        }
    }

    /// The service on a fresh SQLite store (or `store`, which then stands in for it) and the stand-in.
    func withParts(
        ratePerKey: Double = 10,
        burstPerKey: Int = 20,
        cooldown: Duration = .seconds(60),
        identities: [JSONValue] = DefaultIdentities.identities,
        store replacement: (any AcceptStore)? = nil,
        _ body: @Sendable (Parts) async throws -> Void
    ) async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let chain = AuditChain(key: .random())
        let store = try SQLiteStore(path: directory.appendingPathComponent("gateway.sqlite").path, chain: chain)
        try await store.migrate()
        let templates = try shippedTemplates()
        let settings = try GatewaySettings.forTests(
            cooldown: cooldown,
            ratePerKey: ratePerKey,
            burstPerKey: burstPerKey
        )
        try await withStandIn(StandInConfiguration(identities: identities)) { standIn, adminURL in
            let kratos = KratosClient(configuration: try KratosConfiguration(adminURL: adminURL), httpClient: .shared)
            let accept = AcceptService(
                settings: settings,
                store: replacement ?? store,
                kratos: kratos,
                templates: templates,
                chain: chain,
                signal: DeliverySignal()
            )
            try await body(Parts(accept: accept, store: store, standIn: standIn))
        }
    }

    // A body whose only `try` is inside `#expect` spells out that it throws: Swift infers a
    // closure's `throws` from its text, before the macro is expanded.

    /// The refusal `accept` throws for `body`.
    func refusal(
        _ parts: Parts,
        _ body: JSONValue,
        key: String = "k-1",
        caller: Caller = backend
    ) async -> AcceptRefusal? {
        do {
            _ = try await parts.accept.accept(body: body, idempotencyKey: key, caller: caller)
            return nil
        } catch {
            return error
        }
    }

    func identity(_ id: String, _ fields: [String: JSONValue] = [:]) -> JSONValue {
        .object(fields.merging(["identity_id": .string(id)]) { mine, _ in mine })
    }

    // MARK: Accepted

    @Test func aValidRequestIsStoredQueuedAndAudited() async throws {
        try await withParts { parts in
            let answer = try await parts.accept.accept(
                body: identity(Self.alice, ["reason": .string("ticket #4711")]),
                idempotencyKey: "k-1",
                caller: Self.backend
            )
            #expect(answer.status == 202)
            #expect(!answer.replayed)
            #expect(answer.recipientMasked == "f***@o***.sh")
            let stored = try #require(try await parts.store.delivery(id: answer.deliveryID))
            #expect(stored.status == .queued)
            #expect(stored.recipient == "foobar@ory.sh")
            #expect(stored.method == .link)
            #expect(stored.template == "recovery")
            #expect(stored.actor == "backend")
            #expect(stored.requestID == "req-1")
            // The answer is the delivery as the API shows it.
            let view = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any]
            #expect(view?["id"] as? String == answer.deliveryID.uuidString.lowercased())
            #expect(view?["status"] as? String == "queued")
            let events = try await parts.store.auditEvents(afterSeq: 0, limit: 10)
            #expect(events.map(\.action) == [.emailRequested])
            #expect(events.first?.details["reason"] == "ticket #4711")
            #expect(events.first?.sourceIP == "192.0.2.1")
        }
    }

    @Test func theRecipientIsTheOneAskedForElseTheLoginEmailElseTheFirst() async throws {
        // Two of the three go to one address: no cooldown between them here.
        try await withParts(cooldown: .zero) { parts in
            let first = try await parts.accept.accept(
                body: identity(Self.ada),
                idempotencyKey: "a",
                caller: Self.backend
            )
            let login = try await parts.accept.accept(
                body: .object(["email": .string("ada.lovelace@example.org")]),
                idempotencyKey: "b",
                caller: Self.backend
            )
            let asked = try await parts.accept.accept(
                body: identity(Self.ada, ["recipient": .string("ada.lovelace@example.org")]),
                idempotencyKey: "c",
                caller: Self.backend
            )
            let recipients = try await [first, login, asked].asyncMap {
                try await parts.store.delivery(id: $0.deliveryID)?.recipient
            }
            #expect(recipients == ["ada@example.com", "ada.lovelace@example.org", "ada.lovelace@example.org"])
        }
    }

    @Test func anyOtherRecipientNeedsTheAnyRecipientScopeAndIsAuditedEitherWay() async throws {
        try await withParts { parts in
            let foreign = identity(Self.alice, ["recipient": .string("someone@example.net")])
            #expect(await refusal(parts, foreign) == .recipientNotAllowed)
            #expect(try await parts.deliveries().isEmpty)
            #expect(try await parts.auditActions() == ["email.refused"])

            let support = Caller(name: "support", scopes: [.send, .sendAnyRecipient])
            let answer = try await parts.accept.accept(body: foreign, idempotencyKey: "k-2", caller: support)
            #expect(try await parts.store.delivery(id: answer.deliveryID)?.recipient == "someone@example.net")
            let events = try await parts.store.auditEvents(afterSeq: 0, limit: 10)
            #expect(events.map(\.action) == [.emailRefused, .emailRequested])
            #expect(events.last?.details["recipient_override"] == "true")
        }
    }

    // MARK: Idempotency

    @Test func theSameKeyAndBodyGetTheStoredAnswerEvenWhileKratosIsDown() async throws {
        try await withParts { parts in
            let first = try await parts.accept.accept(
                body: identity(Self.alice),
                idempotencyKey: "k",
                caller: Self.backend
            )
            parts.standIn.state.inject(InjectedFault(path: "/admin/*", count: 100, status: 503))
            let again = try await parts.accept.accept(
                body: identity(Self.alice),
                idempotencyKey: "k",
                caller: Self.backend
            )
            #expect(again.replayed)
            #expect(again.body == first.body)
            #expect(again.deliveryID == first.deliveryID)
            #expect(try await parts.deliveries().count == 1)
        }
    }

    @Test func theSameKeyWithAnotherBodyIsRefused() async throws {
        try await withParts { parts in
            _ = try await parts.accept.accept(body: identity(Self.alice), idempotencyKey: "k", caller: Self.backend)
            #expect(await refusal(parts, identity(Self.alice, ["method": .string("code")]), key: "k") == .keyReused)
            // Another API key has keys of its own.
            let other = Caller(name: "other", scopes: [.send])
            #expect(await refusal(parts, identity(Self.ada), key: "k", caller: other) == nil)
        }
    }

    // MARK: Refused before anything is stored

    @Test func aBadFieldIsRefusedNamingIt() async throws {
        try await withParts { (parts: Parts) async throws in
            guard case .invalid(let error)? = await refusal(parts, identity(Self.alice, ["method": .string("pigeon")]))
            else {
                Issue.record("a bad method was not refused as invalid")
                return
            }
            #expect(error.field == "method")
            guard
                case .invalid(let unknown)? = await refusal(
                    parts,
                    identity(Self.alice, ["template": .string("no_such")])
                )
            else {
                Issue.record("an unknown template was not refused as invalid")
                return
            }
            #expect(unknown.field == "template")
            #expect(try await parts.deliveries().isEmpty)
            #expect(try await parts.auditActions().isEmpty)
        }
    }

    @Test func aKeyOverItsRateWaitsForItsNextToken() async throws {
        try await withParts(ratePerKey: 0.5, burstPerKey: 1) { parts in
            #expect(await refusal(parts, identity(Self.alice), key: "a") == nil)
            guard case .rateLimited(let wait)? = await refusal(parts, identity(Self.ada), key: "b") else {
                Issue.record("a second request beyond the burst of 1 was not rate-limited")
                return
            }
            // Half a token a second: the next one is at most two seconds away.
            #expect(wait > .zero && wait <= .seconds(2))
        }
    }

    @Test func anUnknownIdentityIsRefused() async throws {
        try await withParts { parts in
            #expect(await refusal(parts, identity("11111111-2222-4333-8444-555555555555")) == .identityNotFound)
            #expect(await refusal(parts, .object(["email": .string("nobody@example.com")])) == .identityNotFound)
        }
    }

    /// Kratos keeps login identifiers unique per credential type only: one address can log two
    /// identities in (a password here, a one-time code there). Which one is meant is then unknown.
    @Test func anEmailTwoIdentitiesLogInWithIsRefusedAsAmbiguous() async throws {
        let twin: JSONValue = .object([
            "id": .string("c0ffee00-1111-4222-8333-444455556666"),
            "credentials": .object([
                "code": .object(["type": .string("code"), "identifiers": .array([.string("foobar@ory.sh")])])
            ]),
            "schema_id": .string("default"),
            "state": .string("active"),
            "traits": .object(["email": .string("foobar@ory.sh")]),
            "recovery_addresses": .array([
                .object([
                    "id": .string("c0ffee00-1111-4222-8333-444455556667"), "value": .string("foobar@ory.sh"),
                    "via": .string("email"),
                ])
            ]),
        ])
        try await withParts(identities: DefaultIdentities.identities + [twin]) { (parts: Parts) async throws in
            let byEmail: JSONValue = .object(["email": .string("foobar@ory.sh")])
            #expect(await refusal(parts, byEmail) == .identityAmbiguous)
            // By id, each one is still found.
            #expect(await refusal(parts, identity(Self.alice), key: "k-2") == nil)
            #expect(try await parts.deliveries().count == 1)
        }
    }

    @Test func anIdentityWithoutAnEmailRecoveryAddressIsRefused() async throws {
        try await withParts { (parts: Parts) async throws in
            #expect(await refusal(parts, identity(Self.grace)) == .noRecoveryAddress)
            #expect(try await parts.deliveries().isEmpty)
        }
    }

    @Test func theSameIdentityAndRecipientWithinTheCooldownIsRefusedAndAudited() async throws {
        try await withParts { parts in
            _ = try await parts.accept.accept(body: identity(Self.alice), idempotencyKey: "a", caller: Self.backend)
            let other = Caller(name: "other", scopes: [.send])
            guard case .cooldown(let until)? = await refusal(parts, identity(Self.alice), key: "b", caller: other)
            else {
                Issue.record("a second email within the cooldown was not refused")
                return
            }
            #expect(until > Date())
            #expect(try await parts.deliveries().count == 1)
            #expect(try await parts.auditActions() == ["email.requested", "email.refused"])
        }
    }

    // MARK: Unavailable

    @Test func kratosFailingIsUnavailableAndStoresNothing() async throws {
        try await withParts { (parts: Parts) async throws in
            parts.standIn.state.inject(InjectedFault(path: "/admin/identities/*", count: 100, status: 503))
            guard case .kratosUnavailable? = await refusal(parts, identity(Self.alice)) else {
                Issue.record("Kratos answering 503 was not kratosUnavailable")
                return
            }
            #expect(try await parts.deliveries().isEmpty)
            #expect(try await parts.auditActions().isEmpty)
        }
    }

    @Test func aStoreThatFailsIsUnavailableWithItsError() async throws {
        let failing = UnavailableStore()
        try await withParts(store: failing) { parts in
            #expect(await refusal(parts, identity(Self.alice)) == .storeUnavailable(UnavailableStore.failure))
        }
        // The stored answer of an earlier request is looked up first, before Kratos is asked.
        #expect(failing.calls.withLock { $0 } == ["idempotentAnswer"])
    }
}

/// A store whose every call fails as an unreachable database does; it remembers what was asked.
private final class UnavailableStore: AcceptStore {
    static let failure = StoreError.unavailable("connection refused")
    let calls = Mutex<[String]>([])

    func idempotentAnswer(apiKeyID: String, key: String, now: Date) async throws(StoreError) -> IdempotentAnswer? {
        calls.withLock { $0.append("idempotentAnswer") }
        throw Self.failure
    }

    func accept(_ new: NewDelivery) async throws(StoreError) -> AcceptResult {
        calls.withLock { $0.append("accept") }
        throw Self.failure
    }

    func latestDelivery(identityID: UUID, recipient: String, since: Date) async throws(StoreError) -> Date? {
        calls.withLock { $0.append("latestDelivery") }
        throw Self.failure
    }

    func appendAudit(_ draft: AuditDraft) async throws(StoreError) -> AuditEvent {
        calls.withLock { $0.append("appendAudit") }
        throw Self.failure
    }
}

extension Array {
    /// The results of `transform` on each element, in order, one after the other.
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
