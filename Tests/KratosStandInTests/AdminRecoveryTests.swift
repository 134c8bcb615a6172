import Foundation
import Hummingbird
import HummingbirdTesting
import JSONValue
import KratosStandIn
import Testing

@Suite struct AdminRecoveryTests {
    func post(_ client: any TestClientProtocol, _ path: String, _ json: String) async throws -> TestResponse {
        try await client.execute(
            uri: path,
            method: .post,
            headers: [.contentType: "application/json"],
            body: body(json)
        )
    }

    @Test func linkIsShapedLikeKratossAndHonoursExpiresIn() async throws {
        try await withStandIn(StandInConfiguration(publicURL: "https://auth.example.com/")) { standIn, client in
            let before = Date()
            let response = try await post(
                client,
                "/admin/recovery/link",
                #"{"identity_id":"\#(fixtureID)","expires_in":"1m30s"}"#
            )
            let after = Date()
            #expect(response.status == .ok)
            let answer = try json(response.body)
            let link = try #require(answer["recovery_link"]?.stringValue)
            let pattern =
                #/^https://auth\.example\.com/self-service/recovery\?flow=[0-9a-f-]{36}&token=[A-Za-z0-9]{32}$/#
            #expect(link.wholeMatch(of: pattern) != nil, "\(link)")
            #expect(String(buffer: response.body).contains("&token="))  // not \u0026, as Kratos (UnescapedHTML)
            let expiresAt = try #require(answer["expires_at"]?.stringValue)
            let date = try #require(
                try? Date(expiresAt, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true))
            )
            // 90 s after the moment the stand-in answered, whenever that was between the two clocks
            // (milliseconds: expires_at is written to the millisecond).
            #expect(date >= before.addingTimeInterval(90 - 0.001) && date <= after.addingTimeInterval(90 + 0.001))
            #expect(standIn.state.issued.map(\.recoveryLink) == [link])
        }
    }

    @Test func codeIsSixDigitsWithA201() async throws {
        try await withStandIn { standIn, client in
            let response = try await post(client, "/admin/recovery/code", #"{"identity_id":"\#(fixtureID)"}"#)
            #expect(response.status == .created)
            let answer = try json(response.body)
            let code = try #require(answer["recovery_code"]?.stringValue)
            #expect(code.wholeMatch(of: #/[0-9]{6}/#) != nil)
            let issued = try #require(standIn.state.issued.first)
            #expect(answer["recovery_link"] == .string("http://127.0.0.1:4433/ui/recovery?flow=" + issued.flowID))
        }
    }

    @Test func codeErrorsEqualKratossFixtures() async throws {
        try await withStandIn { _, client in
            let cases = [
                (
                    #"{"identity_id":"11111111-2222-4333-8444-555555555555"}"#,
                    "error-recovery-code-unknown-identity-404.json"
                ),
                (
                    #"{"identity_id":"\#(fixtureID)","expires_in":"not-a-valid-value"}"#,
                    "error-recovery-code-malformed-expires_in-400.json"
                ),
                (
                    #"{"identity_id":"\#(fixtureID)","expires_in":"-1h"}"#,
                    "error-recovery-code-negative-expires_in-400.json"
                ),
            ]
            for (request, name) in cases {
                let response = try await post(client, "/admin/recovery/code", request)
                let expected = try fixture(name)
                #expect(Int(response.status.code) == Int(expected["error"]?["code"]?.numberValue ?? 0), "\(name)")
                #expect(try json(response.body) == expected, "\(name)")
            }
        }
    }

    @Test func linkErrorsFollowKratossLinkHandler() async throws {
        try await withStandIn { _, client in
            let unknown = try await post(
                client,
                "/admin/recovery/link",
                #"{"identity_id":"11111111-2222-4333-8444-555555555555"}"#
            )
            #expect(unknown.status == .badRequest)
            #expect(try json(unknown.body)["error"]?["reason"] == .string("The requested identity id does not exist."))
            let negative = try await post(
                client,
                "/admin/recovery/link",
                #"{"identity_id":"\#(fixtureID)","expires_in":"-1h"}"#
            )
            #expect(
                try json(negative.body)["error"]?["reason"]
                    == .string(#"Value from "expires_in" must be result to a future time: -1h"#)
            )
            let malformed = try await post(
                client,
                "/admin/recovery/link",
                #"{"identity_id":"\#(fixtureID)","expires_in":"soon"}"#
            )
            #expect(
                String(buffer: malformed.body)
                    == #"{"error":{"code":400,"status":"Bad Request","reason":"Unable to parse \"expires_in\" as a duration string (e.g. \"1h\", \"1m30s\", \"500ms\"): soon","message":"The request was malformed or contained invalid parameters"}}"#
                    + "\n"
            )
        }
    }

    @Test func faultsApplyToTheNextNCallsThenStop() async throws {
        try await withStandIn { standIn, client in
            standIn.state.inject(InjectedFault(path: "/admin/recovery/link", count: 2, status: 503, retryAfter: "3"))
            let request = #"{"identity_id":"\#(fixtureID)"}"#
            let first = try await post(client, "/admin/recovery/link", request)
            #expect(first.status == .serviceUnavailable)
            #expect(first.headers[.retryAfter] == "3")
            #expect(try await post(client, "/admin/recovery/link", request).status == .serviceUnavailable)
            #expect(try await post(client, "/admin/recovery/link", request).status == .ok)
            #expect(standIn.state.issued.count == 1)
        }
    }

    @Test func hooksInjectListAndReset() async throws {
        try await withStandIn { standIn, client in
            let injected = try await post(
                client,
                "/stand-in/faults",
                #"{"path":"/admin/recovery/*","count":1,"status":500}"#
            )
            #expect(injected.status == .noContent)
            let bad = try await post(client, "/stand-in/faults", #"{"path":"/x","count":0}"#)
            #expect(bad.status == .badRequest)
            #expect(
                try await post(client, "/admin/recovery/code", #"{"identity_id":"\#(fixtureID)"}"#).status
                    == .internalServerError
            )
            #expect(
                try await post(client, "/admin/recovery/code", #"{"identity_id":"\#(fixtureID)"}"#).status == .created
            )
            let listed = try await client.execute(uri: "/stand-in/issued", method: .get)
            #expect(try json(listed.body).arrayValue?.first?["method"] == .string("code"))
            #expect(try await post(client, "/stand-in/reset", "").status == .noContent)
            #expect(standIn.state.issued.isEmpty)
        }
    }
}

extension JSONValue {
    var numberValue: Double? {
        guard case .number(let value) = self else { return nil }
        return value
    }
}
