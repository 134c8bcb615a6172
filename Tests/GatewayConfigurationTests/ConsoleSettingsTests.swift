import Domain
import Foundation
import GatewayConfiguration
import Testing

/// The `console` section: its checks, and the cookie that may go without `Secure` only on loopback.
@Suite struct ConsoleSettingsTests {
    @Test(arguments: [
        ("console: { enabled: yes }", "console.enabled", "must be one of true, false"),
        ("console: { idle_timeout: 0s }", "console.idle_timeout", "must be a duration greater than zero"),
        ("console: { idle_timeout: 25h }", "console.idle_timeout", "must be from 1s to 24h"),
        (
            "console: { idle_timeout: 1h, session_lifetime: 30m }", "console.session_lifetime",
            "must be from console.idle_timeout to 168h"
        ),
        ("console: { sessions: 3 }", "console.sessions", "unknown key"),
        (
            "server: { host: 0.0.0.0 }\nconsole: { secure_cookie: false }", "console.secure_cookie",
            "may be false only when server.host is a loopback address (127.0.0.1, ::1, localhost)"
        ),
        ("console: { api_key_sign_in: false }", "console.api_key_sign_in", "may be false only when"),
        ("console: { oidc_client_id: c }", "console.oidc_client_id", "needs console.oidc_issuer"),
        ("console: { sessions_per_agent: 0 }", "console.sessions_per_agent", "must be an integer from 1 to 100"),
        ("console: { oidc_issuer: http://idp.example }", "console.oidc_issuer", "must be an https URL"),
        ("console: { oidc_issuer: 'https://idp.example?x=1' }", "console.oidc_issuer", "must be an https URL"),
        ("console: { oidc_issuer: https://idp.example }", "console.oidc_client_id", "must be set"),
    ])
    func aBadValueIsNamed(yaml: String, key: String, problem: String) throws {
        let error = try #require(loadError(yaml))
        #expect(error.key == key)
        #expect(error.problem.hasPrefix(problem))
    }

    @Test func theEnvironmentOverridesTheFile() throws {
        let configuration = try ConfigurationLoader.load(
            yaml: "console: { idle_timeout: 5m }",
            source: "test.yaml",
            environment: [
                "RECOVERY_GATEWAY_CONSOLE_IDLE_TIMEOUT": "2m", "RECOVERY_GATEWAY_CONSOLE_SECURE_COOKIE": "false",
            ]
        )
        #expect(configuration.console.idleTimeout == .seconds(120))
        #expect(!configuration.console.secureCookie)
        #expect(configuration.console.sessionLifetime == .seconds(8 * 3_600))
        #expect(configuration.console.enabled)
    }

    /// The OpenID Connect settings with a real secret file; `extra` lines are added to the section.
    func oidc(_ extra: String = "", environment: [String: String] = [:]) throws -> GatewayConfiguration {
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("oidc-secret-\(UUID().uuidString)")
        try "s3cret-value\n".write(to: secret, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: secret) }
        return try ConfigurationLoader.load(
            yaml: """
                console:
                  oidc_issuer: https://idp.example/realms/support/
                  oidc_client_id: console
                  oidc_client_secret_file: \(secret.path)
                  oidc_redirect_url: https://gateway.example/console/oidc/callback
                \(extra)
                """,
            source: "test.yaml",
            environment: environment
        )
    }

    @Test func theProviderIsConfiguredWithRolesMappedToScopesAndTheSecretReadFromItsFile() throws {
        let configuration = try oidc(
            """
              oidc_roles: { support-l1: [recovery:read, recovery:send], auditors: [audit:read] }
            """
        )
        let settings = try #require(configuration.console.oidc)
        #expect(settings.issuer == "https://idp.example/realms/support/")  // as the tokens' iss names it
        #expect(settings.clientSecret.value == "s3cret-value" && "\(settings.clientSecret)" == "<redacted>")
        #expect(settings.scopes == ["openid", "profile", "email"] && settings.rolesClaim == "groups")
        #expect(settings.scopes(forRoles: ["support-l1", "auditors", "marketing"]) == [.read, .send, .auditRead])
        #expect(settings.scopes(forRoles: ["marketing"]).isEmpty)
        #expect(!configuration.description.contains("s3cret-value"))
        #expect(
            configuration.description.contains(
                "oidc_roles: { auditors: [audit:read], support-l1: [recovery:read, recovery:send] }"
            )
        )
    }

    @Test func rolesComeFromTheEnvironmentAsYAMLAndApiKeySignInCanBeTurnedOff() throws {
        let configuration = try oidc(
            "  oidc_roles: { a: [audit:read] }",
            environment: [
                "RECOVERY_GATEWAY_CONSOLE_OIDC_ROLES": "{support-l1: [recovery:read, identity:read]}",
                "RECOVERY_GATEWAY_CONSOLE_OIDC_SCOPES": "[profile, groups]",
                "RECOVERY_GATEWAY_CONSOLE_API_KEY_SIGN_IN": "false",
            ]
        )
        let settings = try #require(configuration.console.oidc)
        #expect(settings.roles == ["support-l1": [.read, .identityRead]])
        #expect(settings.scopes == ["openid", "profile", "groups"])
        #expect(!configuration.console.apiKeySignIn)
    }

    @Test(arguments: [
        ("  oidc_roles: { a: [courier:kratos] }", "console.oidc_roles.a", "must list scopes among"),
        ("  oidc_roles: { a: [recovery:write] }", "console.oidc_roles.a", "must list scopes among"),
        ("  oidc_roles: {}", "console.oidc_roles", "must map at least one role"),
        ("  oidc_roles: { a: [audit:read] }\n  oidc_scopes: [open id]", "console.oidc_scopes", "must be a list"),
    ])
    func aBadRoleMappingIsNamed(extra: String, key: String, problem: String) throws {
        do {
            _ = try oidc(extra)
            Issue.record("\(extra) was accepted")
        } catch let error as ConfigurationError {
            #expect(error.key == key)
            #expect(error.problem.hasPrefix(problem), "\(error.problem)")
        }
    }
}
