import Foundation
import HTTPTypes
import HummingbirdTesting
import KratosStandIn
import NIOCore
import TestSupport
import Testing

/// `POST /v1/recovery-batches` in-process: the dry run's report per outcome, scopes, limits, the
/// NDJSON body read line by line, and nothing stored, audited or asked of Kratos for a link.
@Suite("Batches: the dry run", .serialized)
struct BatchRouteTests {
    static let alice = "a251ebc2-880c-4f76-a8f3-38e6940eab0e"
    static let ada = "5b4c9a8e-3f1d-4c2a-9e7b-1d2f3a4b5c6d"
    static let grace = "3d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f70"
    static let unknown = "00000000-0000-4000-8000-000000000000"

    @Test func reportsEveryItemByOutcomeAndStoresNothing() async throws {
        try await withGateway { client, standIn, smtp in
            let body = """
                {"dry_run": true, "reason": "breach", "locale": "de", "items": [
                  "\(Self.alice)", "ada.lovelace@example.org", "\(Self.grace)", "\(Self.unknown)", "not-an-id", 42,
                  {"identity_id": "\(Self.ada)", "recipient": "eve@evil.example"},
                  {"identity_id": "\(Self.ada)", "recipient": "ada.lovelace@example.org"},
                  {"email": "foobar@ory.sh", "identity_id": "\(Self.alice)"}
                ]}
                """
            let answer = try await client.call(.post, "/v1/recovery-batches", json: body)
            #expect(answer.status == .ok)
            #expect(answer.object["dry_run"] as? Bool == true)
            #expect(answer.object["total"] as? Int == 9)
            let counts = try #require(answer.object["counts"] as? [String: Int])
            #expect(
                counts == [
                    "would_send": 3, "not_found": 1, "no_recovery_address": 1, "recipient_not_allowed": 1,
                    "cooldown": 0, "invalid": 3,
                ]
            )
            let items = try #require(answer.object["items"] as? [[String: Any]])
            #expect(items.map { $0["position"] as? Int } == Array(1...9))
            #expect(
                items.map { $0["outcome"] as? String } == [
                    "would_send", "would_send", "no_recovery_address", "not_found", "invalid", "invalid",
                    "recipient_not_allowed", "would_send", "invalid",
                ]
            )
            #expect(items[0]["identity_id"] as? String == Self.alice)
            #expect(items[0]["recipient"] as? String == "f***@o***.sh")
            #expect(items[1]["identity_id"] as? String == Self.ada)
            #expect(items[6]["recipient"] as? String == "e***@e***.example")
            #expect((items[4]["reason"] as? String)?.hasPrefix("item: must be an identity id") == true)
            #expect(items[8]["reason"] as? String == "email: give identity_id or email, not both")
            #expect(!answer.text.contains("eve@evil.example"))

            let deliveries = try await client.call(.get, "/v1/recovery-emails")
            #expect((deliveries.object["items"] as? [Any])?.isEmpty == true)
            // Only the dry run's own event.
            let verified = try await client.call(.get, "/v1/audit-events/verify")
            #expect(verified.object["events"] as? Int == 1)
            #expect(standIn.state.issued.isEmpty)
            #expect(try smtp.messages().isEmpty)
        }
    }

    @Test func refusesWhatIsNotABatch() async throws {
        try await withGateway { client, standIn, _ in
            let cases: [(String, HTTPResponse.Status, String)] = [
                // A batch to send needs an Idempotency-Key, as every send does.
                (#"{"items": ["\#(Self.alice)"], "reason": "r"}"#, .badRequest, "Idempotency-Key"),
                (#"{"items": ["\#(Self.alice)"], "reason": "r", "dry_run": "yes"}"#, .unprocessableContent, "dry_run"),
                (#"{"items": ["\#(Self.alice)"], "dry_run": true}"#, .unprocessableContent, "reason"),
                (#"{"items": "\#(Self.alice)", "reason": "r", "dry_run": true}"#, .unprocessableContent, "items"),
                (#"{"items": [], "reason": "r", "dry_run": true}"#, .unprocessableContent, "items"),
                (
                    #"{"items": ["\#(Self.alice)"], "reason": "r", "dry_run": true, "rate": 5000}"#,
                    .unprocessableContent,
                    "rate"
                ),
                (
                    #"{"items": ["\#(Self.alice)"], "reason": "r", "dry_run": true, "template": "nope"}"#,
                    .unprocessableContent, "template"
                ),
                (#"["\#(Self.alice)"]"#, .badRequest, "body"),
                ("{not json", .badRequest, "body"),
            ]
            for (body, status, field) in cases {
                let answer = try await client.call(.post, "/v1/recovery-batches", json: body)
                #expect(answer.status == status, "\(body)")
                #expect(answer.object["field"] as? String == field, "\(body)")
            }
            let reader = try await client.call(
                .post,
                "/v1/recovery-batches",
                key: Keys.reader,
                json: #"{"items": ["\#(Self.alice)"], "reason": "r", "dry_run": true}"#
            )
            #expect(reader.status == .forbidden)
            let text = try await client.execute(
                uri: "/v1/recovery-batches",
                method: .post,
                headers: [.authorization: "Bearer \(Keys.backend)", .contentType: "text/plain"],
                body: ByteBuffer(string: Self.alice)
            )
            #expect(text.status == .unsupportedMediaType)
            // A JSON body is held to server.max_body_bytes (4096 here); more items go as NDJSON. Last:
            // an answer given while the body still arrives closes the test client's only connection.
            let tooMany = "[" + Array(repeating: "\"\(Self.alice)\"", count: 200).joined(separator: ",") + "]"
            let answer = try await client.call(
                .post,
                "/v1/recovery-batches",
                json: #"{"reason": "r", "dry_run": true, "items": \#(tooMany)}"#
            )
            #expect(answer.status == .contentTooLarge)
            #expect(answer.object["code"] as? String == "body_too_large")
            #expect(standIn.state.issued.isEmpty)
        }
    }

    @Test func readsAnNDJSONBodyLineByLineBeyondTheBodyLimit() async throws {
        try await withGateway { client, standIn, _ in
            // 3,000 lines: far over the harness's server.max_body_bytes (4096), which binds only JSON bodies.
            var lines = [
                "\"\(Self.alice)\"", "", "{\"email\": \"ada@example.com\"}", "{not json", "{\"colour\": 1}", "7",
            ]
            lines += Array(repeating: "\"\(Self.ada)\"", count: 2_994)
            // Without dry_run it is a batch to send, which needs an Idempotency-Key: nothing stored.
            // First: the dry run below may be answered while its body still arrives, and such an
            // answer closes its connection (the test client's only one).
            let notDry = try await client.execute(
                uri: "/v1/recovery-batches?reason=r",
                method: .post,
                headers: [.authorization: "Bearer \(Keys.backend)", .contentType: "application/x-ndjson"],
                body: ByteBuffer(string: "\"\(Self.alice)\"\n")
            )
            #expect(notDry.status == .badRequest)
            #expect(notDry.object["field"] as? String == "Idempotency-Key")
            let answer = try await client.execute(
                uri: "/v1/recovery-batches?dry_run=true&reason=migration%20wave%202&locale=de",
                method: .post,
                headers: [.authorization: "Bearer \(Keys.backend)", .contentType: "application/x-ndjson"],
                body: ByteBuffer(string: lines.joined(separator: "\r\n"))
            )
            #expect(answer.status == .ok)
            #expect(answer.object["total"] as? Int == 2_999)
            let counts = try #require(answer.object["counts"] as? [String: Int])
            #expect(counts["would_send"] == 2_996)
            #expect(counts["invalid"] == 3)
            let items = try #require(answer.object["items"] as? [[String: Any]])
            let bad = items.filter { $0["outcome"] as? String == "invalid" }
            #expect(bad.map { $0["position"] as? Int } == [4, 5, 6])
            #expect(
                bad.map { $0["reason"] as? String } == [
                    "line: is not JSON", "colour: is not a field of an item",
                    "item: must be a string (an identity id or a login email) or an object",
                ]
            )
            #expect(items.last?["position"] as? Int == 3_000)

            #expect(standIn.state.issued.isEmpty)
        }
    }
}
