import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

/// The HTTP API in-process, against the real parts.
@Suite("HTTP API", .serialized)
struct APITests {
    static let identity = "a251ebc2-880c-4f76-a8f3-38e6940eab0e"
    static let body = #"{"identity_id": "a251ebc2-880c-4f76-a8f3-38e6940eab0e", "reason": "ticket #4711"}"#

    @Test func acceptSendReadAndAudit() async throws {
        try await withGateway { client, standIn, smtp in
            let accepted = try await client.call(
                .post,
                "/v1/recovery-emails",
                headers: [
                    .init("Idempotency-Key")!: "k-1", .init("Prefer")!: "wait=10", .init("X-Request-Id")!: "req-42",
                ],
                json: Self.body
            )
            #expect(accepted.status == .ok)
            #expect(accepted.headers[.init("X-Request-Id")!] == "req-42")
            let id = try #require(accepted.object["id"] as? String)
            #expect(accepted.headers[.location] == "/v1/recovery-emails/\(id)")
            #expect(accepted.object["status"] as? String == "sent")
            #expect(accepted.object["recipient"] as? String == "f***@o***.sh")
            #expect(try smtp.messages().count == 1)

            let shown = try await client.call(.get, "/v1/recovery-emails/\(id)", key: Keys.reader)
            #expect(shown.object["smtp_reply"] as? String == "250 2.0.0 Ok: queued as TEST000001")
            let listed = try await client.call(.get, "/v1/recovery-emails?identity_id=\(Self.identity)&status=sent")
            #expect((listed.object["items"] as? [Any])?.count == 1)

            let replay = try await client.call(
                .post,
                "/v1/recovery-emails",
                headers: [.init("Idempotency-Key")!: "k-1"],
                json: Self.body
            )
            #expect(replay.status == .accepted)
            #expect(replay.headers[.init("Idempotent-Replayed")!] == "true")
            #expect(replay.object["id"] as? String == id)

            let events = try await client.call(.get, "/v1/audit-events?delivery_id=\(id)")
            let actions = (events.object["items"] as? [[String: Any]])?.compactMap { $0["action"] as? String }
            #expect(actions == ["email.requested", "email.sent"])
            let verified = try await client.call(.get, "/v1/audit-events/verify")
            #expect(verified.object["ok"] as? Bool == true)
            #expect(verified.object["events"] as? Int == 2)
            let ndjson = try await client.call(.get, "/v1/audit-events", headers: [.accept: "application/x-ndjson"])
            #expect(ndjson.headers[.contentType] == "application/x-ndjson")
            #expect(String(buffer: ndjson.body).split(separator: "\n").count == 2)
        }
    }

    @Test func aReplayIsTheFirstAnswerByteForByte() async throws {
        try await withGateway { client, _, _ in
            let key: HTTPFields = [.init("Idempotency-Key")!: "same"]
            let first = try await client.call(.post, "/v1/recovery-emails", headers: key, json: Self.body)
            #expect(first.status == .accepted)
            #expect(first.headers[.init("Idempotent-Replayed")!] == nil)
            // The same body in another layout is the same request.
            let relaid = #"{"reason":"ticket #4711",  "identity_id":"a251ebc2-880c-4f76-a8f3-38e6940eab0e"}"#
            let again = try await client.call(.post, "/v1/recovery-emails", headers: key, json: relaid)
            #expect(again.status == .accepted)
            #expect(again.headers[.init("Idempotent-Replayed")!] == "true")
            #expect(again.body == first.body)
        }
    }

    @Test func authenticationAndScopes() async throws {
        try await withGateway { client, _, _ in
            let anonymous = try await client.call(.get, "/v1/recovery-emails", key: nil)
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.contentType] == "application/problem+json")
            #expect(anonymous.object["code"] as? String == "unauthorized")
            #expect(anonymous.headers[.init("X-Request-Id")!]?.isEmpty == false)
            let wrong = try await client.call(.get, "/v1/recovery-emails", key: "not-a-key")
            #expect(wrong.status == .unauthorized)
            let reader = try await client.call(
                .post,
                "/v1/recovery-emails",
                key: Keys.reader,
                headers: [.init("Idempotency-Key")!: "k"],
                json: Self.body
            )
            #expect(reader.status == .forbidden)
            #expect(reader.object["code"] as? String == "insufficient_scope")
            let audit = try await client.call(.get, "/v1/audit-events", key: Keys.reader)
            #expect(audit.status == .forbidden)
        }
    }

    @Test func badRequestsNameTheirFieldAndStoreNothing() async throws {
        try await withGateway { client, _, smtp in
            let noKey = try await client.call(.post, "/v1/recovery-emails", json: Self.body)
            #expect(noKey.status == .badRequest)
            #expect(noKey.object["field"] as? String == "Idempotency-Key")
            let notJSON = try await client.call(
                .post,
                "/v1/recovery-emails",
                headers: [.init("Idempotency-Key")!: "a"],
                json: "{"
            )
            #expect(notJSON.status == .badRequest)
            #expect(notJSON.object["code"] as? String == "invalid_json")
            let big = #"{"identity_id": "\#(Self.identity)", "reason": "\#(String(repeating: "x", count: 5000))"}"#
            let tooLarge = try await client.call(
                .post,
                "/v1/recovery-emails",
                headers: [.init("Idempotency-Key")!: "b"],
                json: big
            )
            #expect(tooLarge.status == .contentTooLarge)
            let badLocale = try await client.call(
                .post,
                "/v1/recovery-emails",
                headers: [.init("Idempotency-Key")!: "c"],
                json: #"{"identity_id": "\#(Self.identity)", "locale": "../../etc"}"#
            )
            #expect(badLocale.status == .unprocessableContent)
            #expect(badLocale.object["field"] as? String == "locale")
            let unknown = try await client.call(
                .post,
                "/v1/recovery-emails",
                headers: [.init("Idempotency-Key")!: "d"],
                json: #"{"identity_id": "11111111-2222-4333-8444-555555555555"}"#
            )
            #expect(unknown.status == .notFound)
            #expect(unknown.object["code"] as? String == "identity_not_found")
            let list = try await client.call(.get, "/v1/recovery-emails")
            #expect((list.object["items"] as? [Any])?.isEmpty == true)
            let events = try await client.call(.get, "/v1/audit-events")
            #expect((events.object["items"] as? [Any])?.isEmpty == true)
            #expect(try smtp.messages().isEmpty)
        }
    }

    @Test func health() async throws {
        try await withGateway { client, _, _ in
            let alive = try await client.call(.get, "/health/alive", key: nil)
            #expect(alive.status == .ok)
            let ready = try await client.call(.get, "/health/ready", key: nil)
            #expect(ready.status == .ok)
        }
    }
}
