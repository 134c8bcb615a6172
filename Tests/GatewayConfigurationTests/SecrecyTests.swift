import Foundation
import GatewayConfiguration
import Mail
import Testing

/// No secret in any error or description.
@Suite struct SecrecyTests {
    static let password = "Sup3r-S3cret-pw"

    @Test func descriptionRedactsPasswordsAndSecrets() throws {
        let directory = try TemporaryDirectory()
        let token = try directory.write("token", "ory_pat_TOKENVALUE\n")
        let configuration = try ConfigurationLoader.load(
            yaml: """
                kratos: { admin_url: "https://x.projects.oryapis.com", token_file: \(token) }
                smtp: { url: "smtp://user:\(Self.password)@mail.example:587/" }
                store: { url: "postgres://gw:\(Self.password)@db:5432/gateway" }
                """,
            source: "test.yaml",
            environment: ["RECOVERY_GATEWAY_AUDIT_KEY": Data(repeating: 0x41, count: 32).base64EncodedString()]
        )
        let text = configuration.description
        #expect(!text.contains(Self.password))
        #expect(!text.contains("TOKENVALUE"))
        #expect(!text.contains("QUFBQUFB"))  // base64 of the audit key
        #expect(text.contains("url: smtp://user:***@mail.example:587/"))
        #expect(text.contains("url: postgres://gw:***@db:5432/gateway"))
        #expect("\(configuration.store)" == "StoreSettings(url: postgres://gw:***@db:5432/gateway)")
        #expect(!String(reflecting: configuration.store).contains(Self.password))
        #expect(configuration.kratos.token?.description == "<redacted>")
        #expect("\(String(describing: configuration.audit.key))".contains("AAAA") == false)
        #expect(configuration.smtp.redactedURL == "smtp://user:***@mail.example:587/")
        #expect(try configuration.smtp.makeSMTPConfiguration().password == Self.password)
    }

    @Test func errorsNeverRepeatTheValue() throws {
        let secretValued = [
            "smtp: { url: \"smtp://user:\(Self.password)@mail.example:587/?bogus=1\" }",
            "smtp: { url: \"smtp://user:\(Self.password)@mail example/\" }",
            "store: { url: \"mysql://gw:\(Self.password)@db/x\" }",
            "kratos: { admin_url: \"http://user:\(Self.password)@h\" }",
            "server: { port: \(Self.password) }",
            "delivery: { expires_in: \(Self.password) }",
            "smtp: { from_address: \"\(Self.password)\" }",
            "logging: { level: \(Self.password) }",
            "api_keys: [{ name: a, sha256: \(Self.password), scopes: [audit:read] }]",
            "smtp: { url: \"smtp://user:\(Self.password)@h/\"\n  bad indentation: [",
        ]
        for yaml in secretValued {
            let error = try #require(loadError(yaml), "\(yaml) should be refused")
            #expect(!error.description.contains(Self.password), "\(error)")
        }
        let fromEnvironment = try #require(
            loadError("", environment: ["RECOVERY_GATEWAY_SMTP_URL": "smtp://u:\(Self.password)@h/?x=1"])
        )
        #expect(!fromEnvironment.description.contains(Self.password))
        #expect(fromEnvironment.key == "smtp.url")
    }
}
