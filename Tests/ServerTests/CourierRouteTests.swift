import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

/// `POST /v1/courier/kratos` in-process, against the real parts: Kratos's documents of
/// Tests/Fixtures/kratos-courier posted as Kratos posts them, stored, sent without a Kratos call.
@Suite("Kratos courier route", .serialized)
struct CourierRouteTests {
    static let fixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures/kratos-courier")
    static let route = "/v1/courier/kratos"

    static func types(_ set: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: fixtures.appendingPathComponent(set).path)
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    static func body(_ set: String, _ type: String) throws -> String {
        try String(contentsOf: fixtures.appendingPathComponent("\(set)/\(type).json"), encoding: .utf8)
    }

    /// The body of `set/type` with `change` applied to its JSON object.
    static func body(_ set: String, _ type: String, _ change: (inout [String: Any]) -> Void) throws -> String {
        var object = try #require(
            try JSONSerialization.jsonObject(with: Data(body(set, type).utf8)) as? [String: Any]
        )
        change(&object)
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// Posts every type of `set`: each answered 202 with its delivery, each delivered once.
    func deliversEveryType(of set: String) async throws {
        try await withGateway { client, _, smtp in
            var ids: [String: String] = [:]
            for type in try Self.types(set) {
                let answer = try await client.call(.post, Self.route, key: Keys.kratos, json: try Self.body(set, type))
                #expect(answer.status == .accepted, "\(set)/\(type): \(String(buffer: answer.body))")
                let id = try #require(answer.object["id"] as? String)
                #expect(answer.headers[.location] == "/v1/recovery-emails/\(id)")
                #expect(answer.object["source"] as? String == "kratos_courier")
                #expect(answer.object["template_type"] as? String == type)
                #expect(answer.object["recipient"] as? String == "l***@e***.com")
                ids[type] = id
            }
            #expect(ids.count == 10)
            #expect(try await waitUntil(seconds: 60) { try smtp.messages().count >= ids.count })
            #expect(try smtp.messages().count == ids.count)
            for (type, id) in ids {
                let shown = try await client.call(.get, "/v1/recovery-emails/\(id)")
                #expect(shown.object["status"] as? String == "sent", "\(type)")
            }
            let listed = try await client.call(
                .get,
                "/v1/recovery-emails?source=kratos_courier&template_type=login_code_valid"
            )
            let listedIDs = (listed.object["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(listedIDs == [try #require(ids["login_code_valid"])])
            let admin = try await client.call(.get, "/v1/recovery-emails?source=admin_api")
            #expect((admin.object["items"] as? [Any])?.isEmpty == true)
            let badFilter = try await client.call(.get, "/v1/recovery-emails?template_type=stub")
            #expect(badFilter.status == .badRequest && badFilter.object["field"] as? String == "template_type")

            let events = try await client.call(.get, "/v1/audit-events?action=email.requested")
            let requested = try #require(events.object["items"] as? [[String: Any]])
            #expect(requested.count == 10)
            #expect(requested.allSatisfy { $0["actor"] as? String == "kratos" })
            #expect(
                requested.allSatisfy { ($0["details"] as? [String: Any])?["source"] as? String == "kratos_courier" }
            )
        }
    }

    @Test func everyTypeOfKratosContextIsDeliveredOnce() async throws {
        try await deliversEveryType(of: "ctx-v26.2")
    }

    @Test func everyTypeOfKratosDefaultBodyIsDeliveredOnce() async throws {
        try await deliversEveryType(of: "default-body-v26.2")
    }

    @Test func aGermanIdentityGetsGermanAndARepostIsAnsweredWithoutASecondEmail() async throws {
        try await withGateway { client, _, smtp in
            let body = try Self.body("ctx-v26.2", "recovery_code_valid")
            let first = try await client.call(.post, Self.route, key: Keys.kratos, json: body)
            #expect(first.status == .accepted)
            #expect(first.headers[.init("Idempotent-Replayed")!] == nil)
            #expect(try await waitUntil(seconds: 30) { try smtp.messages().count == 1 })
            let raw = String(decoding: try #require(try smtp.messages().first).raw, as: UTF8.self)
            #expect(raw.contains("Content-Language: de\r\n"))
            #expect(raw.contains("731904"))

            // Kratos's retry after a timeout, and the same message from a v25.4 Kratos: one email.
            for again in [body, try Self.body("ctx-v25.4", "recovery_code_valid")] {
                let answer = try await client.call(.post, Self.route, key: Keys.kratos, json: again)
                #expect(answer.status == .ok)
                #expect(answer.headers[.init("Idempotent-Replayed")!] == "true")
                #expect(answer.object["id"] as? String == first.object["id"] as? String)
            }
            try await Task.sleep(for: .milliseconds(500))
            #expect(try smtp.messages().count == 1)
            let list = try await client.call(.get, "/v1/recovery-emails")
            #expect((list.object["items"] as? [Any])?.count == 1)
        }
    }

    @Test func keysWithoutTheScopeAreRefused() async throws {
        try await withGateway { client, _, _ in
            let body = try Self.body("ctx-v26.2", "recovery_valid")
            #expect(try await client.call(.post, Self.route, key: nil, json: body).status == .unauthorized)
            let backend = try await client.call(.post, Self.route, json: body)
            #expect(backend.status == .forbidden)
            #expect(backend.object["code"] as? String == "insufficient_scope")
            let read = try await client.call(.get, "/v1/recovery-emails", key: Keys.kratos)
            #expect(read.status == .forbidden)
        }
    }

    @Test func documentsTheGatewayCanNeverSendAreRefusedNamingTheFieldAndStoreNothing() async throws {
        try await withGateway { client, _, smtp in
            let cases: [(String, Int, String, String)] = [
                (try Self.body("ctx-v1.0", "recovery_valid"), 422, "unsupported_kratos_version", ""),
                (
                    try Self.body("ctx-v26.2", "recovery_valid") { $0["template_type"] = "stub" }, 422,
                    "unknown_template_type", "template_type"
                ),
                (
                    try Self.body("ctx-v26.2", "login_code_valid") { $0["message_type"] = "sms" }, 422,
                    "unsupported_message_type", "message_type"
                ),
                (
                    try Self.body("ctx-v26.2", "recovery_valid") { $0["recipient"] = nil }, 422,
                    "invalid_courier_message", "recipient"
                ),
                (
                    try Self.body("ctx-v26.2", "recovery_valid") {
                        var data = $0["template_data"] as? [String: Any] ?? [:]
                        data["to"] = "not an address"
                        $0["template_data"] = data
                        $0["recipient"] = "not an address"
                    }, 422, "invalid_courier_message", "recipient"
                ),
                (
                    try Self.body("ctx-v26.2", "recovery_code_valid") {
                        var data = $0["template_data"] as? [String: Any] ?? [:]
                        data["expires_in_minutes"] = 0
                        $0["template_data"] = data
                    }, 422, "invalid_courier_message", "template_data.expires_in_minutes"
                ),
                ("[1, 2]", 422, "invalid_courier_message", "body"),
                ("{", 422, "invalid_courier_message", "body"),
            ]
            for (body, status, code, field) in cases {
                let answer = try await client.call(.post, Self.route, key: Keys.kratos, json: body)
                #expect(answer.status.code == status, "\(code): \(String(buffer: answer.body))")
                #expect(answer.headers[.contentType] == "application/problem+json")
                #expect(answer.object["code"] as? String == code)
                if !field.isEmpty { #expect(answer.object["field"] as? String == field, "\(code)") }
                #expect(!String(buffer: answer.body).contains("Qm9zc2Vz"))
            }
            let list = try await client.call(.get, "/v1/recovery-emails")
            #expect((list.object["items"] as? [Any])?.isEmpty == true)
            let events = try await client.call(.get, "/v1/audit-events")
            #expect((events.object["items"] as? [Any])?.isEmpty == true)
            #expect(try smtp.messages().isEmpty)
            // Answered before its body is read, so the connection is closed after it (issue 23): last.
            let noType = try await client.execute(
                uri: Self.route,
                method: .post,
                headers: [.authorization: "Bearer \(Keys.kratos)", .contentType: "text/plain"],
                body: ByteBuffer(string: try Self.body("ctx-v26.2", "recovery_valid"))
            )
            #expect(noType.status == .unsupportedMediaType)
        }
        // The same for a body over the limit, on a connection of its own.
        try await withGateway { client, _, _ in
            let huge = try Self.body("ctx-v26.2", "recovery_valid") {
                $0["body"] = String(repeating: "x", count: 70_000)
            }
            let tooLarge = try await client.call(.post, Self.route, key: Keys.kratos, json: huge)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.object["code"] as? String == "body_too_large")
        }
    }
}
