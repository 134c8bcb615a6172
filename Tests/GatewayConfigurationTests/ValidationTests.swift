import GatewayConfiguration
import Testing

@Suite struct ValidationTests {
    static let hash = String(repeating: "ab", count: 32)

    @Test(arguments: [
        ("serverr: { port: 1 }", "serverr"),
        ("server: { prot: 1 }", "server.prot"),
        ("kratos: { token: x }", "kratos.token"),
        ("smtp: { password: x }", "smtp.password"),
        ("audit: { key: x }", "audit.key"),
        ("delivery: { max_attempt: 3 }", "delivery.max_attempt"),
        ("logging: { colour: true }", "logging.colour"),
        ("api_keys: [{ name: a, sha256: \"\(hash)\", scopes: [audit:read], scope: x }]", "api_keys[0].scope"),
    ])
    func unknownKeyStopsLoadingAndIsNamed(yaml: String, key: String) throws {
        let error = try #require(loadError(yaml))
        #expect(error.key == key)
        #expect(error.problem.hasPrefix("unknown key"))
    }

    @Test func unknownEnvironmentKeyAndFlagAreNamed() {
        let environment = loadError("", environment: ["RECOVERY_GATEWAY_SMTP_PASWORD_FILE": "/x"])
        #expect(environment?.key == "smtp.pasword_file")
        #expect(environment?.origin == "environment variable RECOVERY_GATEWAY_SMTP_PASWORD_FILE")
        #expect(loadError("", flags: ["server.prot": "1"])?.key == "server.prot")
        #expect(loadError("", flags: ["port": "1"])?.key == "port")
    }

    @Test(
        arguments: [
            ("server: { port: 65536 }", "server.port", "must be an integer from 0 to 65535"),
            ("server: { port: http }", "server.port", "must be an integer from 0 to 65535"),
            ("server: { host: \"\" }", "server.host", "must not be empty"),
            ("server: { max_body_bytes: 10 }", "server.max_body_bytes", "must be an integer from 1024 to 16777216"),
            ("server: { idle_timeout: 500ms }", "server.idle_timeout", "must be from 1s to 1h"),
            ("server: { header_timeout: 0s }", "server.header_timeout", "must be a duration greater than zero"),
            ("server: { header_timeout: 6m }", "server.header_timeout", "must be from 100ms to 5m"),
            ("server: { max_connections: 0 }", "server.max_connections", "must be an integer from 1 to 1000000"),
            ("server: { request_timeout: 2h }", "server.request_timeout", "must be from 100ms to 1h"),
            ("audit: { checkpoint_every_events: 0 }", "audit.checkpoint_every_events", nil),
            ("audit: { checkpoint_interval: 10ms }", "audit.checkpoint_interval", "must be from 100ms to 24h"),
            (
                "audit: { startup_verify_events: -1 }", "audit.startup_verify_events",
                "must be an integer from 0 to 1000000000"
            ),
            ("audit: { signing_key_file: \"\" }", "audit.signing_key_file", "must not be empty"),
            ("server: [1, 2]", "server", "must be a mapping of keys to values"),
            ("server: { port: [1] }", "server.port", "must be a single value, not a list or a mapping"),
            ("kratos: { admin_url: ftp://h }", "kratos.admin_url", nil),
            ("kratos: { admin_url: \"http://u:p@h\" }", "kratos.admin_url", nil),
            ("kratos: { public_url: not-a-url }", "kratos.public_url", nil),
            ("kratos: { timeout: 5 }", "kratos.timeout", nil),
            ("kratos: { timeout: -1s }", "kratos.timeout", "must be a duration greater than zero"),
            ("smtp: { url: \"http://h/\" }", "smtp.url", nil),
            ("smtp: { url: \"smtp://h:99999/\" }", "smtp.url", "port: must be a number from 1 to 65535"),
            ("smtp: { url: \"smtp://h/?tls=no\" }", "smtp.url", nil),
            ("smtp: { from_address: nobody }", "smtp.from_address", "not a valid email address: it has no @"),
            ("smtp: { from_name: \"a\\nBcc: x@y\" }", "smtp.from_name", nil),
            ("smtp: { connections: 65 }", "smtp.connections", "must be an integer from 1 to 64"),
            ("smtp: { local_name: \"bad name\" }", "smtp.local_name", nil),
            ("store: { url: mysql://h/db }", "store.url", nil),
            ("store: { url: \"sqlite://\" }", "store.url", nil),
            ("store: { url: \"postgres:///db\" }", "store.url", nil),
            ("store: { max_connections: 0 }", "store.max_connections", "must be an integer from 1 to 1000"),
            ("store: { connection_wait: 0s }", "store.connection_wait", "must be a duration greater than zero"),
            ("delivery: { default_method: sms }", "delivery.default_method", "must be one of link, code"),
            ("delivery: { expires_in: 1d }", "delivery.expires_in", nil),
            ("delivery: { expires_in: 1m }", "delivery.expires_in", "must be from 2m to 168h"),
            ("delivery: { expires_in: 169h }", "delivery.expires_in", "must be from 2m to 168h"),
            ("delivery: { cooldown: -5s }", "delivery.cooldown", "must be a duration of 0s or more"),
            ("delivery: { max_attempts: 1.5 }", "delivery.max_attempts", "must be an integer from 1 to 100"),
            ("delivery: { backoff_initial: 10m }", "delivery.backoff_max", nil),
            ("delivery: { lease: 0s }", "delivery.lease", "must be a duration greater than zero"),
            ("delivery: { workers: 0 }", "delivery.workers", "must be an integer from 1 to 256"),
            ("delivery: { rate_per_key: 0 }", "delivery.rate_per_key", nil),
            ("delivery: { burst_per_key: -1 }", "delivery.burst_per_key", nil),
            ("delivery: { idempotency_window: 9999999h }", "delivery.idempotency_window", nil),
            ("templates: { default_locale: en_US }", "templates.default_locale", nil),
            ("templates: { dir: \"\" }", "templates.dir", "must not be empty"),
            ("logging: { level: verbose }", "logging.level", nil),
            ("logging: { format: xml }", "logging.format", "must be one of json, plain"),
            ("api_keys: { name: a }", "api_keys", nil),
            ("api_keys: [{ sha256: \"\(hash)\", scopes: [audit:read] }]", "api_keys[0].name", "must not be empty"),
            (
                "api_keys: [{ name: a, sha256: \"\(hash.uppercased())\", scopes: [audit:read] }]", "api_keys[0].sha256",
                nil
            ),
            ("api_keys: [{ name: a, sha256: abc, scopes: [audit:read] }]", "api_keys[0].sha256", nil),
            ("api_keys: [{ name: a, sha256: \"\(hash)\", scopes: [] }]", "api_keys[0].scopes", nil),
            ("api_keys: [{ name: a, sha256: \"\(hash)\", scopes: [audit:write] }]", "api_keys[0].scopes[0]", nil),
            (
                "api_keys: [{ name: a, sha256: \"\(hash)\", scopes: [audit:read, audit:read] }]",
                "api_keys[0].scopes[1]",
                nil
            ),
            (
                "api_keys: [{ name: a, sha256: \"\(hash)\", scopes: [audit:read] }, "
                    + "{ name: a, sha256: \"\(hash)\", scopes: [recovery:read] }]",
                "api_keys[1].name", nil
            ),
        ] as [(String, String, String?)]
    )
    func badValueNamesItsKey(yaml: String, key: String, problem: String?) throws {
        let error = try #require(loadError(yaml), "\(yaml) should be refused")
        #expect(error.key == key, "\(yaml): \(error)")
        if let problem { #expect(error.problem == problem) }
        #expect(error.description.hasPrefix("\(key): "))
    }

    @Test func documentThatIsNotAMappingOrNotYAMLIsRefused() {
        #expect(loadError("- a\n- b")?.problem.contains("must be a mapping of sections") == true)
        let syntax = loadError("server: { port: 1\nsmtp: x")
        #expect(syntax?.problem.contains("is not valid YAML: line") == true)
        #expect(loadError("server: { port: 1 }\nserver: { port: 2 }")?.problem.contains("duplicated") == true)
    }
}
