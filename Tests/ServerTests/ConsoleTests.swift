import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
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
                session.setCookie.contains("__Host-rg_console=\(session.id); Path=/; HttpOnly; SameSite=Strict; Secure")
            )
            #expect(session.id.count == 64)
            // The key is in no answer.
            let users = try await client.console(.get, "/console/users", session: session)
            #expect(users.status == .ok)
            #expect(!users.text.contains(Keys.backend))
            #expect(users.text.contains("Signed in as <strong id=\"agent-name\">backend</strong>"))

            let wrong = try await client.postSignIn("rg_not_a_key")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains("id=\"sign-in-error\">This is not a valid API key.</p>"))
            #expect(!wrong.headers[values: .setCookie].contains { $0.hasPrefix("__Host-rg_console=") })
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
            #expect(!answer.headers[values: .setCookie].contains { $0.hasPrefix("__Host-rg_console=") })
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
            // Without identity:read the page shows what the API would: the address masked, no traits.
            #expect(identity.text.contains("f***@o***.sh") && !identity.text.contains("foobar@ory.sh"))
            #expect(!identity.text.contains("id=\"traits\""))
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

    /// Back after a send shows the form again (fetched anew: the page is not cached); posting it
    /// again shows the delivery it made. Only a new send, started on purpose, sends another.
    @Test func aFormShownAgainAfterItsSendSendsNothingMoreUntilANewSendStarts() async throws {
        try await withGateway { client, _, _ in
            let session = try await client.signIn(Keys.backend)
            let path = "/console/identities/\(Self.alice)/send"
            let page = try await client.console(.get, path, session: session)
            let (csrf, key) = (page.text.hidden("csrf", after: "id=\"send-form\""), page.text.hidden("idempotency_key"))
            #expect(!page.text.contains("id=\"already-sent\""))
            let sent = try await client.postSend(session, csrf: csrf, idempotencyKey: key, reason: "TICKET-43")
            let location = try #require(sent.headers[.location])

            let back = try await client.console(.get, path, session: session)
            #expect(back.text.hidden("idempotency_key") == key)
            #expect(back.text.contains("id=\"already-sent\"") && back.text.contains("href=\"\(location)\""))
            let resent = try await client.postSend(session, csrf: csrf, idempotencyKey: key, reason: "TICKET-43")
            #expect(resent.status == .seeOther && resent.headers[.location] == location)
            let changed = try await client.postSend(session, csrf: csrf, idempotencyKey: key, reason: "TICKET-44")
            #expect(changed.status == .conflict)
            #expect(changed.text.contains("id=\"new-send-button\""))
            #expect(try await client.deliveryCount() == 1)

            let started = try await client.console(.post, "\(path)/new", session: session, form: "csrf=\(csrf)")
            #expect(started.status == .seeOther && started.headers[.location] == path)
            let fresh = try await client.console(.get, path, session: session)
            let newKey = fresh.text.hidden("idempotency_key")
            #expect(newKey != key && !fresh.text.contains("id=\"already-sent\""))
            let second = try await client.postSend(session, csrf: csrf, idempotencyKey: newKey, reason: "TICKET-44")
            #expect(second.status == .seeOther && second.headers[.location] != location)
            #expect(try await client.deliveryCount() == 2)
            // Starting a new send needs the session's form token, like every form.
            let forged = try await client.console(.post, "\(path)/new", session: session, form: "csrf=0")
            #expect(forged.status == .forbidden)
            #expect(try await client.console(.get, path, session: session).text.hidden("idempotency_key") == newKey)
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
                    + "&query=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%22%CC%81"
            )
            #expect(answer.status == .badRequest)
            // A quote with a combining mark after it (U+0301) is escaped too: the browser reads its byte.
            #expect(answer.text.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;&quot;&quot;\u{301}\""))
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
            #expect(out.headers[values: .setCookie].contains { $0.hasPrefix("__Host-rg_console=; Path=/;") })
            let after = try await client.console(.get, "/console/users", session: session)
            #expect(after.status == .seeOther && after.headers[.location] == "/console/sign-in")
            let bearer = try await client.call(.get, "/console/users")
            #expect(bearer.status == .seeOther && bearer.headers[.location] == "/console/sign-in")
        }
    }

    @Test func csrfTokensAreBoundToTheSessionAndTheForm() {
        let agent = ConsoleAgent(agent: "key:a", actor: "a", displayName: "a", scopes: [.read])
        let one = ConsoleSession(id: ConsoleSessions.randomHex(), agent: agent, signedInAt: Date(), sendForms: [:])
        let two = ConsoleSession(id: ConsoleSessions.randomHex(), agent: agent, signedInAt: Date(), sendForms: [:])
        #expect(one.accepts(one.csrfToken("send"), for: "send"))
        #expect(!one.accepts(one.csrfToken("find"), for: "send"))
        #expect(!two.accepts(one.csrfToken("send"), for: "send"))
        #expect(!one.accepts(nil, for: "send") && !one.accepts("zz", for: "send"))
        // The store keeps the id's hash only, and looks up nothing that is not an id's shape.
        #expect(ConsoleSessions.hash(one.id) != one.id && ConsoleSessions.hash(one.id).count == 64)
        #expect(!ConsoleSessions.isSessionID("not-a-session") && ConsoleSessions.isSessionID(one.id))
    }

    @Test func aKeyThatOpensNoConsolePageCannotSignIn() async throws {
        try await withGateway { client, _, _ in
            let answer = try await client.postSignIn(Keys.kratos)
            #expect(answer.status == .forbidden)
            #expect(answer.text.contains("opens no console page"))
            #expect(!answer.headers[values: .setCookie].contains { $0.hasPrefix("__Host-rg_console=") })
        }
    }

    @Test func lookingAUserUpByEmailNeedsIdentityReadAndIsAudited() async throws {
        try await withGateway { client, _, _ in
            let reader = try await client.signIn(Keys.reader)
            let page = try await client.console(.get, "/console/users", session: reader)
            let csrf = page.text.hidden("csrf", after: "action=\"/console/users\"")
            let refused = try await client.console(
                .post,
                "/console/users",
                session: reader,
                form: "csrf=\(csrf)&query=foobar%40ory.sh"
            )
            #expect(refused.status == .forbidden && refused.text.contains("identity:read"))
            // By id the reader may open it (as the API's recovery:read would show it).
            let byID = try await client.console(
                .post,
                "/console/users",
                session: reader,
                form: "csrf=\(csrf)&query=\(Self.alice)"
            )
            #expect(byID.status == .seeOther && byID.headers[.location] == "/console/identities/\(Self.alice)")

            let agent = try await client.signIn(Keys.backend)
            let form = try await client.console(.get, "/console/users", session: agent)
            let found = try await client.console(
                .post,
                "/console/users",
                session: agent,
                form: "csrf=\(form.text.hidden("csrf", after: "action=\"/console/users\""))&query=foobar%40ory.sh"
            )
            #expect(found.status == .seeOther && found.headers[.location] == "/console/identities/\(Self.alice)")
            let events = try await client.call(.get, "/v1/audit-events?action=identity.looked_up")
            let items = try #require(events.object["items"] as? [[String: Any]])
            #expect(items.count == 1)
            let event = try #require(items.first)
            #expect(event["actor"] as? String == "backend" && event["outcome"] as? String == "found")
            #expect(
                event["recipient_masked"] as? String == "f***@o***.sh" && event["identity_id"] as? String == Self.alice
            )
            #expect(!"\(event)".contains("foobar@ory.sh"))
            let identity = try await client.console(.get, "/console/identities/\(Self.alice)", session: agent)
            #expect(identity.text.contains("foobar@ory.sh") && identity.text.contains("id=\"traits\""))
        }
    }

    @Test func signInIsThrottledPerClientAddress() async throws {
        try await withGateway { client, _, _ in
            // Ten attempts at once, then one every six seconds: on a busy machine the attempts are
            // slow enough for tokens to come back, so the refusal is allowed that many attempts later.
            let start = ContinuousClock.now
            var statuses: [HTTPResponse.Status] = []
            var refusal: (sent: ContinuousClock.Instant, retryAfter: Int?)?
            while statuses.last != .tooManyRequests, statuses.count < 40 {
                let sent = ContinuousClock.now
                let answer = try await client.postSignIn("rg_not_a_key")
                statuses.append(answer.status)
                refusal = (sent, answer.headers[.retryAfter].flatMap { Int($0) })
            }
            let refilled = Int(((ContinuousClock.now - start) / .seconds(6)).rounded(.up))
            #expect(statuses.dropLast().allSatisfy { $0 == .unauthorized })
            #expect(statuses.last == .tooManyRequests)
            #expect(statuses.count >= 11 && statuses.count <= 11 + refilled, "\(statuses.count) attempts")
            // The right key too is refused until the address has a token again: the refusal said
            // when (Retry-After, rounded up), counted here from before the refused attempt was sent.
            let retryAfter = try #require(refusal?.retryAfter)
            let answer = try await client.postSignIn(Keys.backend)
            let waited = ContinuousClock.now - refusal!.sent
            #expect(
                answer.status == .tooManyRequests || waited >= .seconds(retryAfter - 1),
                "signed in \(waited) after a refusal that said \(retryAfter) s"
            )
            if answer.status == .tooManyRequests { #expect(answer.headers[.retryAfter] != nil) }
        }
    }
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
        let setCookie = try #require(answer.headers[values: .setCookie].first { $0.hasPrefix("__Host-rg_console=") })
        let id = String(setCookie.dropFirst("__Host-rg_console=".count).prefix { $0 != ";" })
        let page = try await execute(uri: "/console", method: .get, headers: [.cookie: "__Host-rg_console=\(id)"])
        let home = try await execute(
            uri: page.headers[.location] ?? "",
            method: .get,
            headers: [.cookie: "__Host-rg_console=\(id)"]
        )
        return ConsoleCookie(id: id, setCookie: setCookie, signOut: home.text.hidden("csrf"))
    }

    func postSignIn(_ key: String) async throws -> TestResponse {
        let page = try await execute(uri: "/console/sign-in", method: .get)
        let cookie = try #require(page.headers[values: .setCookie].first { $0.hasPrefix("__Host-rg_console_signin=") })
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
                + "&recipient=address-0&reason=\(reason)&action=send"
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
        var headers: HTTPFields = [.cookie: "__Host-rg_console=\(session.id)"]
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
