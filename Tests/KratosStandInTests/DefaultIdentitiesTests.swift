import Foundation
import JSONValue
import KratosStandIn
import Testing

@Suite struct DefaultIdentitiesTests {
    @Test func embeddedSetEqualsTheShippedFile() throws {
        let file = try String(
            contentsOf: repositoryRoot.appendingPathComponent("config/stand-in-identities.json"),
            encoding: .utf8
        )
        #expect(DefaultIdentities.json == file)
        #expect(DefaultIdentities.identities.count == 4)
    }

    @Test func firstIdentityIsKratossFixture() throws {
        #expect(DefaultIdentities.identities.first == (try fixture("identity-example.json")))
    }

    @Test func badIdentitiesAreNamed() {
        #expect(throws: StandInStartError.self) {
            try KratosStandIn(configuration: StandInConfiguration(identities: [.object(["id": .string("nope")])]))
        }
    }
}
