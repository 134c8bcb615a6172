import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

/// The lists' query parameters accept every value openapi.yaml allows (an empty cursor, RFC 3339
/// times in any case) and refuse the rest by name; a method and path no route serves is a
/// problem+json with a request id. (Schemathesis, Tests/e2e/test_openapi.py, found each of these.)
@Suite("List parameters and unknown routes")
struct ListParametersAndUnknownRoutesTests {
    @Test func anEmptyCursorAsksForTheFirstPage() async throws {
        try await withGateway { client, _, _ in
            for path in ["/v1/recovery-emails", "/v1/audit-events"] {
                let first = try await client.call(.get, path)
                let empty = try await client.call(.get, path + "?cursor=")
                #expect(empty.status == .ok, "\(path)")
                #expect(empty.body == first.body, "\(path)")
                // A cursor the list never gave out is still refused.
                let bogus = try await client.call(.get, path + "?cursor=bogus")
                #expect(bogus.status == .badRequest)
                #expect(bogus.object["field"] as? String == "cursor")
            }
        }
    }

    @Test func lowerCaseRFC3339TimesAreAccepted() async throws {
        try await withGateway { client, _, _ in
            for query in [
                "since=2026-01-31t12:00:00z", "until=2026-01-31t12:00:00.5z", "since=2026-01-31T12:00:00%2B01:00",
            ] {
                for path in ["/v1/recovery-emails", "/v1/audit-events"] {
                    let answer = try await client.call(.get, "\(path)?\(query)")
                    #expect(answer.status == .ok, "\(path)?\(query): \(answer.object)")
                }
            }
            let bad = try await client.call(.get, "/v1/audit-events?since=yesterday")
            #expect(bad.status == .badRequest)
            #expect(bad.object["field"] as? String == "since")
        }
    }

    @Test func noRouteIsAProblemWithARequestID() async throws {
        try await withGateway { client, _, _ in
            for (method, path) in [(HTTPRequest.Method.get, "/v2/nothing"), (.delete, "/v1/recovery-emails")] {
                let answer = try await client.call(method, path)
                #expect(answer.status == .notFound)
                #expect(answer.headers[.contentType] == "application/problem+json")
                #expect(answer.headers[HTTPField.Name("X-Request-Id")!]?.isEmpty == false)
                #expect(answer.object["code"] as? String == "not_found")
                #expect(answer.object["status"] as? Int == 404)
            }
        }
    }
}
