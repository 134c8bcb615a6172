import Domain
import GatewayConfiguration
import Testing

@Suite struct APIKeyTests {
    @Test func matchesOnlyTheKeyWhoseHashIsConfigured() throws {
        // SHA-256("abc"), the FIPS 180-2 test vector.
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        #expect(APIKey.sha256Hex(of: "abc") == abc)
        let key = try APIKey(name: "support-desk", sha256: abc, scopes: [.send, .read])
        #expect(key.matches(presentedKey: "abc"))
        #expect(!key.matches(presentedKey: "abd"))
        #expect(!key.matches(presentedKey: ""))
        #expect(!key.matches(presentedKey: abc))
        #expect(key.scopes.contains(.send))
        #expect(!key.scopes.contains(.auditRead))
    }

    @Test func constructorRefusesBadHashAndEmptyName() {
        #expect(throws: ConfigurationError.self) { try APIKey(name: "", sha256: APIKey.sha256Hex(of: "k"), scopes: []) }
        #expect(throws: ConfigurationError.self) {
            try APIKey(name: "a", sha256: APIKey.sha256Hex(of: "k").uppercased(), scopes: [])
        }
    }

    @Test func configurationFindsTheKeyByPresentedSecret() throws {
        let one = APIKey.sha256Hex(of: "secret-one")
        let two = APIKey.sha256Hex(of: "secret-two")
        let configuration = try ConfigurationLoader.load(
            yaml: """
                api_keys:
                  - { name: backend, sha256: "\(one)", scopes: [recovery:send, recovery:send:any-recipient] }
                  - name: compliance
                    sha256: "\(two)"
                    scopes: [audit:read, recovery:read]
                """,
            source: "test.yaml"
        )
        #expect(configuration.apiKey(matching: "secret-two")?.name == "compliance")
        #expect(configuration.apiKey(matching: "secret-one")?.scopes == [.send, .sendAnyRecipient])
        #expect(configuration.apiKey(matching: "secret-three") == nil)
        #expect(configuration.apiKey(named: "backend")?.sha256 == one)
        #expect(configuration.description.contains("name: compliance"))
        #expect(!configuration.description.contains("secret-two"))
    }
}
