import Foundation
import JSONValue
import KratosStandIn
import TestSupport
import Testing

@testable import Kratos

@Suite struct IdentityTests {
    @Test func readsTheKratosFixtureIdentity() async throws {
        try await withStandIn { _, url in
            let identity = try await makeClient(url).identity(id: Fixture.email)
            #expect(identity.id == Fixture.email)
            #expect(identity.schemaID == "default")
            #expect(identity.state == "active")
            #expect(identity.traits["email"] == .string("foobar@ory.sh"))
            #expect(identity.emailRecoveryAddresses.map(\.value) == ["foobar@ory.sh"])
            #expect(identity.recoveryAddresses.first?.id == "b8293f1c-010f-45d9-b809-f3fc5365ba80")
            // Kratos does not hand out credential configs (password hashes) unless asked.
            #expect(identity.raw["credentials"]?["password"]?["config"] == nil)
            #expect(identity.raw["credentials"]?["password"]?["identifiers"] != nil)
        }
    }

    @Test func emailRecoveryAddressesAreTheOnlyRecipients() async throws {
        try await withStandIn { _, url in
            let client = try makeClient(url)
            let multi = try await client.identity(id: Fixture.multi)
            #expect(multi.emailRecoveryAddresses.map(\.value) == ["ada@example.com", "ada.lovelace@example.org"])
            let phone = try await client.identity(id: Fixture.phone)
            #expect(phone.recoveryAddresses.map(\.via) == ["sms"])
            #expect(phone.emailRecoveryAddresses.isEmpty)
        }
    }

    @Test func absentRecoveryAddressesMeanNone() async throws {
        try await withStandIn { _, url in
            let bare = try await makeClient(url).identity(id: Fixture.bare)
            #expect(bare.raw["recovery_addresses"] == nil)
            #expect(bare.recoveryAddresses.isEmpty)
            #expect(bare.emailRecoveryAddresses.isEmpty)
        }
    }

    @Test func findsIdentitiesByLoginIdentifier() async throws {
        try await withStandIn { _, url in
            let client = try makeClient(url)
            let found = try await client.identities(credentialsIdentifier: "foo1@ory.sh")
            #expect(found.map(\.id) == [Fixture.email])
            let second = try await client.identities(credentialsIdentifier: "ada.lovelace@example.org")
            #expect(second.map(\.id) == [Fixture.multi])
            // Characters that need escaping in a query reach Kratos intact.
            let none = try await client.identities(credentialsIdentifier: "nobody+x&y=z@example.com")
            #expect(none.isEmpty)
        }
    }

    /// Text with nothing to escape skips Foundation's encoder: both must answer the same.
    @Test(arguments: [
        "", "0c5a1b2e-7d3f-4a8b-9c1d-2e3f4a5b6c7d", "AZaz09-._~", "a+b@c.d", "a b", "ä", "%41", "x&y=z", "\u{7F}",
    ])
    func percentEncodesAsFoundationDoes(text: String) {
        let unreserved = CharacterSet(
            charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
        )
        #expect(KratosClient.percentEncoded(text) == text.addingPercentEncoding(withAllowedCharacters: unreserved))
    }

    @Test func identityDecodingNamesTheMissingField() throws {
        #expect(throws: IdentityDecodingError.missingField("schema_id")) {
            try Identity(json: .object(["id": .string("x")]))
        }
        #expect(throws: IdentityDecodingError.notAnObject) { try Identity(json: .array([])) }
    }
}
