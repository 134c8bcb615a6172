import Foundation
import Hummingbird
import HummingbirdTesting
import JSONValue
import KratosStandIn
import Testing

@Suite struct AdminIdentityTests {
    @Test func getsAnIdentityWithoutCredentialConfig() async throws {
        try await withStandIn { _, client in
            let response = try await client.execute(uri: "/admin/identities/" + fixtureID.uppercased(), method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            var expected = try fixture("identity-example.json")
            if case .object(var members) = expected, case .object(var credentials)? = members["credentials"],
                case .object(var password)? = credentials["password"]
            {
                password["config"] = nil
                credentials["password"] = .object(password)
                members["credentials"] = .object(credentials)
                expected = .object(members)
            }
            #expect(try json(response.body) == expected)
        }
    }

    @Test func unknownIdentityAnswersKratossNotFoundBody() async throws {
        try await withStandIn { _, client in
            for uri in ["/admin/identities/11111111-2222-4333-8444-555555555555", "/admin/identities/garbage"] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .notFound)
                #expect(
                    String(buffer: response.body)
                        == #"{"error":{"code":404,"status":"Not Found","message":"Unable to locate the resource"}}"#
                        + "\n"
                )
            }
        }
    }

    @Test func listsByIdentifierWithKratossLinkHeader() async throws {
        try await withStandIn { _, client in
            let response = try await client.execute(
                uri: "/admin/identities?credentials_identifier=FOOBAR%40ory.sh",
                method: .get
            )
            #expect(response.status == .ok)
            guard case .array(let items) = try json(response.body) else {
                Issue.record("not an array")
                return
            }
            #expect(items.map { $0["id"] } == [.string(fixtureID)])
            #expect(
                response.headers[HTTPFields.Element.Name("Link")!]
                    == "</admin/identities?credentials_identifier=FOOBAR%40ory.sh&page_size=250&page_token="
                    + "00000000-0000-0000-0000-000000000000>; rel=\"first\""
            )
        }
    }

    @Test func keysetPaginationVisitsEveryIdentityOnce() async throws {
        try await withStandIn { _, client in
            var uri = "/admin/identities?page_size=1"
            var seen: [String] = []
            for _ in 0..<10 {
                let response = try await client.execute(uri: uri, method: .get)
                guard case .array(let items) = try json(response.body) else { break }
                seen += items.compactMap { $0["id"]?.stringValue }
                let link = response.headers[HTTPFields.Element.Name("Link")!] ?? ""
                guard let next = link.split(separator: ",").first(where: { $0.hasSuffix("rel=\"next\"") }) else {
                    break
                }
                uri = String(next.dropFirst().prefix { $0 != ">" })
            }
            #expect(seen.count == 4)
            #expect(seen == seen.sorted())
            #expect(Set(seen).count == 4)
        }
    }

    @Test func createsFindsAndDeletesAnIdentity() async throws {
        try await withStandIn { _, client in
            let created = try await client.execute(
                uri: "/admin/identities",
                method: .post,
                headers: [.contentType: "application/json"],
                body: body(
                    #"{"schema_id":"default","traits":{"email":"New@Example.com"},"#
                        + #""credentials":{"password":{"config":{"password":"hunter2hunter2"}}}}"#
                )
            )
            #expect(created.status == .created)
            let identity = try json(created.body)
            let id = try #require(identity["id"]?.stringValue)
            #expect(created.headers[.location] == "/admin/identities/" + id)
            #expect(identity["recovery_addresses"]?.arrayValue?.first?["value"] == .string("new@example.com"))
            #expect(identity["credentials"]?["password"]?["config"] == nil)
            let found = try await client.execute(
                uri: "/admin/identities?credentials_identifier=new@example.com",
                method: .get
            )
            #expect(try json(found.body).arrayValue?.count == 1)
            let again = try await client.execute(
                uri: "/admin/identities",
                method: .post,
                body: body(
                    #"{"schema_id":"default","traits":{"email":"new@example.com"},"credentials":{"password":{}}}"#
                )
            )
            #expect(again.status == .conflict)
            let deleted = try await client.execute(uri: "/admin/identities/" + id, method: .delete)
            #expect(deleted.status == .noContent)
            let gone = try await client.execute(uri: "/admin/identities/" + id, method: .get)
            #expect(gone.status == .notFound)
        }
    }

    @Test func bearerTokenGuardsTheAdminAPIButNotHealth() async throws {
        try await withStandIn(StandInConfiguration(bearerToken: "ory_pat_test")) { _, client in
            let missing = try await client.execute(uri: "/admin/identities/" + fixtureID, method: .get)
            #expect(missing.status == .unauthorized)
            #expect(
                String(buffer: missing.body)
                    == #"{"error":{"code":401,"status":"Unauthorized","message":"The request could not be authorized"}}"#
                    + "\n"
            )
            let wrong = try await client.execute(
                uri: "/admin/identities/" + fixtureID,
                method: .get,
                headers: [.authorization: "Bearer ory_pat_other"]
            )
            #expect(wrong.status == .unauthorized)
            let right = try await client.execute(
                uri: "/admin/identities/" + fixtureID,
                method: .get,
                headers: [.authorization: "Bearer ory_pat_test"]
            )
            #expect(right.status == .ok)
            for path in ["/health/alive", "/health/ready"] {
                #expect(try await client.execute(uri: path, method: .get).status == .ok)
            }
        }
    }
}

extension JSONValue {
    var arrayValue: [JSONValue]? {
        guard case .array(let items) = self else { return nil }
        return items
    }
}
