import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import Console

/// The support console in-process: sessions, CSRF, scopes, headers and escaping, against the real
/// gateway (`withGateway`). The browser's view of it is Tests/e2e/test_console.py.
@Suite struct ConsoleTests {
    /// Alice's identity in the stand-in (one recovery address, foobar@ory.sh).
    static let alice = "a251ebc2-880c-4f76-a8f3-38e6940eab0e"

    @Test func signInGivesAStrictSessionCookieAndAWrongKeyNone() async throws {
        try await withGateway { client, _, _ in
            let page = try await client.execute(uri: "/console/sign-in", method: .get)
            #expect(page.status == .ok)
            let session = try await client.signIn(Keys.backend)
            #expect(
                session.setCookie.contains("rg_console=\(session.id); Path=/console; HttpOnly; SameSite=Strict; Secure")
            )
            #expect(session.id.count == 64)
            // The key is in no answer.
            let users = try await client.console(.get, "/console/users", session: session)
            #expect(users.status == .ok)
            #expect(!users.text.contains(Keys.backend))
            #expect(users.text.contains("Signed in as <strong id=\"agent-name\">backend</strong>"))

            let wrong = try await client.postSignIn("rg_not_a_key")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains("id=\"api_key-error\">This is not a valid API key.</p>"))
            #expect(!wrong.headers[values: .setCookie].contains { $0.hasPrefix("rg_console=") })
        }
    }

    @Test func signInWithoutItsFormsCookieIsRefused() async throws {
        try await withGateway { client, _, _ in
            let page = try await client.execute(uri: "/console/sign-in", method: .get)
            let answer = try await client.execute(
                uri: "/console/sign-in",
                method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "csrf=\(page.text.hidden("csrf"))&api_key=\(Keys.backend)")
            )
            #expect(answer.status == .forbidden)
            #expect(!answer.headers[values: .setCookie].contains { $0.hasPrefix("rg_console=") })
        }
    }

    @Test func everyConsoleAnswerCarriesTheSecurityHeaders() async throws {
        try await withGateway { client, _, _ in
            let session = try await client.signIn(Keys.reader)
            var answers = [
                try await client.execute(uri: "/console/sign-in", method: .get),
                try await client.execute(uri: "/console/assets/console.css", method: .get),
                try await client.execute(uri: "/console/users", method: .get),
            ]
            for path in ["/console/users", "/console/identities/\(Self.alice)", "/console/audit"] {
                answers.append(try await client.console(.get, path, session: session))
            }
            #expect(answers.map(\.status) == [.ok, .ok, .seeOther, .ok, .ok, .forbidden])
            for answer in answers {
                let policy = try #require(answer.headers[.contentSecurityPolicy])
                #expect(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"))
                #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
                #expect(answer.headers[.xContentTypeOptions] == "nosniff")
                #expect(answer.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                #expect(answer.headers[.cacheControl] == "no-store")
            }
            // No page holds inline script.
            #expect(answers.allSatisfy { !$0.text.contains("<script>") && !$0.text.contains("onclick") })
        }
    }

    @Test func aKeyWithoutTheSendScopeSeesNoSendFormAndAForgedPostIsRefused() async throws {
        try await withGateway { client, _, _ in
            let reader = try await client.signIn(Keys.reader)
            let identity = try await client.console(.get, "/console/identities/\(Self.alice)", session: reader)
            #expect(identity.status == .ok)
            #expect(identity.text.contains("foobar@ory.sh"))
            #expect(!identity.text.contains("/send\""))
            let form = try await client.console(.get, "/console/identities/\(Self.alice)/send", session: reader)
            #expect(form.status == .forbidden)
            let forged = try await client.postSend(
                reader,
                csrf: reader.csrf,
                idempotencyKey: "forged-1",
                reason: "forged"
            )
            #expect(forged.status == .forbidden)
            #expect(forged.text.contains("recovery:send"))
            #expect(try await client.deliveryCount() == 0)
        }
    }

    @Test func aFormFromAnotherSessionIsRefusedAndChangesNothing() async throws {
        try await withGateway { client, _, _ in
            let first = try await client.signIn(Keys.backend)
            let form = try await client.console(.get, "/console/identities/\(Self.alice)/send", session: first)
            let token = form.text.hidden("csrf", after: "id=\"send-form\"")
            let second = try await client.signIn(Keys.backend)
            let stale = try await client.postSend(second, csrf: token, idempotencyKey: "stale-1", reason: "ticket-1")
            #expect(stale.status == .forbidden)
            #expect(stale.text.contains("This form has expired"))
            let missing = try await client.console(.post, "/console/users", session: second, form: "query=x")
            #expect(missing.status == .forbidden)
            #expect(try await client.deliveryCount() == 0)
        }
    }

    @Test func aDoubleSubmitSendsOnceAndIsAuditedWithTheAgentAndReason() async throws {
        try await withGateway { client, _, _ in
            let session = try await client.signIn(Keys.backend)
            let page = try await client.console(.get, "/console/identities/\(Self.alice)/send", session: session)
            let (csrf, key) = (page.text.hidden("csrf", after: "id=\"send-form\""), page.text.hidden("idempotency_key"))
            let once = try await client.postSend(session, csrf: csrf, idempotencyKey: key, reason: "TICKET-42")
            let twice = try await client.postSend(session, csrf: csrf, idempotencyKey: key, reason: "TICKET-42")
            #expect(once.status == .seeOther && twice.status == .seeOther)
            let location = try #require(once.headers[.location])
            #expect(location.hasPrefix("/console/deliveries/") && twice.headers[.location] == location)
            #expect(try await client.deliveryCount() == 1)
            let events = try await client.call(.get, "/v1/audit-events?action=email.requested")
            let event = try #require((events.object["items"] as? [[String: Any]])?.first)
            #expect(event["actor"] as? String == "backend")
            #expect((event["details"] as? [String: String])?["reason"] == "TICKET-42")
            #expect(event["source_ip"] as? String == "127.0.0.1")
            let delivery = try await client.console(.get, location, session: session)
            #expect(delivery.status == .ok)
            #expect(delivery.text.contains("<dd>f***@o***.sh</dd>") && !delivery.text.contains("foobar@ory.sh"))
        }
    }

    @Test func aMissingReasonIsShownNextToItsField() async throws {
        try await withGateway { client, _, _ in
            let session = try await client.signIn(Keys.backend)
            let page = try await client.console(.get, "/console/identities/\(Self.alice)/send", session: session)
            let answer = try await client.postSend(
                session,
                csrf: page.text.hidden("csrf", after: "id=\"send-form\""),
                idempotencyKey: page.text.hidden("idempotency_key"),
                reason: "+"
            )
            #expect(answer.status == .badRequest)
            #expect(answer.text.contains("<p class=\"error\" id=\"reason-error\">"))
            #expect(try await client.deliveryCount() == 0)
        }
    }

    @Test func whatTheAgentTypedIsEscaped() async throws {
        try await withGateway { client, _, _ in
            let session = try await client.signIn(Keys.backend)
            let page = try await client.console(.get, "/console/users", session: session)
            let answer = try await client.console(
                .post,
                "/console/users",
                session: session,
                form: "csrf=\(page.text.hidden("csrf", after: "action=\"/console/users\""))"
                    + "&query=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22"
            )
            #expect(answer.status == .badRequest)
            #expect(answer.text.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;&quot;\""))
            #expect(!answer.text.contains("<script>alert"))
        }
    }

    @Test func signOutEndsTheSessionAndABearerKeyOpensNoPage() async throws {
        try await withGateway { client, _, _ in
            let session = try await client.signIn(Keys.backend)
            let out = try await client.console(
                .post,
                "/console/sign-out",
                session: session,
                form: "csrf=\(session.signOut)"
            )
            #expect(out.status == .seeOther)
            #expect(out.headers[values: .setCookie].contains { $0.hasPrefix("rg_console=; Path=/console") })
            let after = try await client.console(.get, "/console/users", session: session)
            #expect(after.status == .seeOther && after.headers[.location] == "/console/sign-in")
            let bearer = try await client.call(.get, "/console/users")
            #expect(bearer.status == .seeOther && bearer.headers[.location] == "/console/sign-in")
        }
    }

    @Test func aSessionEndsWhenIdleOrOld() async {
        let clock = TestClock()
        let sessions = ConsoleSessions(idleTimeout: .seconds(60), lifetime: .seconds(300), now: { clock.now })
        let idle = await sessions.create(name: "alice@support", scopes: [.send])
        clock.advance(59)
        #expect(await sessions.use(idle.id) != nil)
        clock.advance(59)
        #expect(await sessions.use(idle.id) != nil)
        clock.advance(60)
        #expect(await sessions.use(idle.id) == nil)
        let busy = await sessions.create(name: "alice@support", scopes: [.send])
        for _ in 0..<5 {
            clock.advance(50)
            #expect(await sessions.use(busy.id) != nil)
        }
        clock.advance(50)
        #expect(await sessions.use(busy.id) == nil)
        #expect(await sessions.use("not-a-session") == nil)
    }

    @Test func csrfTokensAreBoundToTheSessionAndTheForm() async {
        let sessions = ConsoleSessions(idleTimeout: .seconds(60), lifetime: .seconds(300))
        let one = await sessions.create(name: "a", scopes: [])
        let two = await sessions.create(name: "a", scopes: [])
        #expect(one.accepts(one.csrfToken("send"), for: "send"))
        #expect(!one.accepts(one.csrfToken("find"), for: "send"))
        #expect(!two.accepts(one.csrfToken("send"), for: "send"))
        #expect(!one.accepts(nil, for: "send") && !one.accepts("zz", for: "send"))
        #expect(one.id != two.id)
    }
}

/// A settable clock for the session store.
final class TestClock: Sendable {
    private let seconds = Mutex<Double>(0)
    var now: Date { Date(timeIntervalSince1970: 1_800_000_000 + seconds.withLock { $0 }) }
    func advance(_ by: Double) { seconds.withLock { $0 += by } }
}

/// A signed-in console session as a browser holds it.
struct ConsoleCookie {
    let id: String
    let setCookie: String
    /// The token of the page's sign-out form (and, for the tests, of any form: a reader's forged post).
    let signOut: String
    var csrf: String { signOut }
}

extension TestClientProtocol {
    /// Signs in as a browser does: the form (and its cookie), then the key.
    func signIn(_ key: String) async throws -> ConsoleCookie {
        let answer = try await postSignIn(key)
        #expect(answer.status == .seeOther)
        let setCookie = try #require(answer.headers[values: .setCookie].first { $0.hasPrefix("rg_console=") })
        let id = String(setCookie.dropFirst("rg_console=".count).prefix { $0 != ";" })
        let page = try await execute(uri: "/console", method: .get, headers: [.cookie: "rg_console=\(id)"])
        let home = try await execute(
            uri: page.headers[.location] ?? "",
            method: .get,
            headers: [.cookie: "rg_console=\(id)"]
        )
        return ConsoleCookie(id: id, setCookie: setCookie, signOut: home.text.hidden("csrf"))
    }

    func postSignIn(_ key: String) async throws -> TestResponse {
        let page = try await execute(uri: "/console/sign-in", method: .get)
        let cookie = try #require(page.headers[values: .setCookie].first { $0.hasPrefix("rg_console_signin=") })
        return try await execute(
            uri: "/console/sign-in",
            method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded", .cookie: String(cookie.prefix { $0 != ";" })],
            body: ByteBuffer(string: "csrf=\(page.text.hidden("csrf"))&api_key=\(key)")
        )
    }

    /// Posts the send form for Alice (link, the shipped template, her own address) as a browser
    /// would, or as a forger would, with `csrf` and `idempotencyKey` as given.
    func postSend(
        _ session: ConsoleCookie,
        csrf: String,
        idempotencyKey: String,
        reason: String
    ) async throws -> TestResponse {
        try await console(
            .post,
            "/console/identities/\(ConsoleTests.alice)/send",
            session: session,
            form: "csrf=\(csrf)&idempotency_key=\(idempotencyKey)&method=link&template=recovery&locale="
                + "&recipient=foobar%40ory.sh&reason=\(reason)&action=send"
        )
    }

    /// How many deliveries the gateway holds (from the API).
    func deliveryCount() async throws -> Int? {
        let answer = try await call(.get, "/v1/recovery-emails")
        return (answer.object["items"] as? [Any])?.count
    }

    /// A console request with the session's cookie (and a form body).
    func console(
        _ method: HTTPRequest.Method,
        _ uri: String,
        session: ConsoleCookie,
        form: String? = nil
    ) async throws -> TestResponse {
        var headers: HTTPFields = [.cookie: "rg_console=\(session.id)"]
        if form != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        return try await execute(uri: uri, method: method, headers: headers, body: form.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}

extension String {
    /// The value of the first hidden input named `name` after `marker` (percent-encoded for a form body).
    func hidden(_ name: String, after marker: String = "") -> String {
        let from = marker.isEmpty ? startIndex : range(of: marker)?.upperBound ?? endIndex
        guard let start = self[from...].range(of: "name=\"\(name)\" value=\"") else { return "" }
        let value = self[start.upperBound...].prefix { $0 != "\"" }
        return value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }
}
