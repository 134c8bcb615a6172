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
}
