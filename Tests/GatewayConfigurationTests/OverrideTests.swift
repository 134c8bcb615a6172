import Domain
import Foundation
import GatewayConfiguration
import Logging
import Mail
import Templates
import Testing

@Suite struct OverrideTests {
    @Test func environmentOverridesEachKindOfValue() throws {
        let yaml = """
            server: { port: 9000 }
            smtp: { url: "smtp://file.example:25/" }
            """
        let sha = APIKey.sha256Hex(of: "key-one")
        let configuration = try ConfigurationLoader.load(
            yaml: yaml,
            source: "test.yaml",
            environment: [
                "RECOVERY_GATEWAY_SERVER_PORT": "9090",  // integer
                "RECOVERY_GATEWAY_SERVER_HOST": "0.0.0.0",  // text
                "RECOVERY_GATEWAY_SMTP_URL": "smtps://mail.example:465/",  // URL
                "RECOVERY_GATEWAY_SMTP_FROM_ADDRESS": "ops@müller.de",  // email address
                "RECOVERY_GATEWAY_DELIVERY_COOLDOWN": "0s",  // duration (zero allowed here)
                "RECOVERY_GATEWAY_DELIVERY_BACKOFF_MAX": "500ms",  // duration below the default
                "RECOVERY_GATEWAY_DELIVERY_BACKOFF_INITIAL": "100ms",
                "RECOVERY_GATEWAY_DELIVERY_RATE_PER_KEY": "0.5",  // decimal number
                "RECOVERY_GATEWAY_DELIVERY_DEFAULT_METHOD": "code",  // choice
                "RECOVERY_GATEWAY_LOGGING_LEVEL": "debug",
                "RECOVERY_GATEWAY_LOGGING_FORMAT": "plain",
                "RECOVERY_GATEWAY_TEMPLATES_DEFAULT_LOCALE": "de-ch",  // language tag, canonicalized
                "RECOVERY_GATEWAY_STORE_URL": "postgres://gw:pw@db:5432/gateway",  // store kind
                "RECOVERY_GATEWAY_STORE_MAX_CONNECTIONS": "7",
                "RECOVERY_GATEWAY_STORE_CONNECTION_WAIT": "2s",
                "RECOVERY_GATEWAY_KRATOS_PUBLIC_URL": "https://auth.example/",  // optional URL
                "RECOVERY_GATEWAY_API_KEYS": "[{name: ci, sha256: \(sha), scopes: [recovery:send]}]",  // list
                "RECOVERY_GATEWAY_CONFIG": "ignored: not a section",  // other users' variables are left alone
                "PATH": "/usr/bin",
            ]
        )
        #expect(configuration.server.port == 9090)
        #expect(configuration.server.host == "0.0.0.0")
        #expect(configuration.smtp.url == "smtps://mail.example:465/")
        #expect(try configuration.smtp.makeSMTPConfiguration().security == .implicitTLS)
        #expect(configuration.smtp.fromAddress.description == "ops@xn--mller-kva.de")
        #expect(configuration.delivery.cooldown == .zero)
        #expect(configuration.delivery.backoffMax == .milliseconds(500))
        #expect(configuration.delivery.ratePerKey == 0.5)
        #expect(configuration.delivery.defaultMethod == .code)
        #expect(configuration.logging.level == .debug)
        #expect(configuration.logging.format == .plain)
        #expect(configuration.templates.defaultLocale.description == "de-CH")
        #expect(configuration.store.kind == .postgres)
        #expect(configuration.store.maxConnections == 7)
        #expect(configuration.store.connectionWait == .seconds(2))
        #expect(configuration.kratos.publicURL == "https://auth.example")
        #expect(configuration.apiKeys.map(\.name) == ["ci"])
        #expect(configuration.apiKeys.first?.scopes == [.send])
        #expect(configuration.apiKey(matching: "key-one")?.name == "ci")
    }

    @Test func flagsOverrideEnvironmentWhichOverridesTheFile() throws {
        let configuration = try ConfigurationLoader.load(
            yaml: "server: { port: 9000 }\ndelivery: { workers: 3 }",
            source: "test.yaml",
            environment: ["RECOVERY_GATEWAY_SERVER_PORT": "9090", "RECOVERY_GATEWAY_DELIVERY_WORKERS": "5"],
            flags: ["server.port": "7070"]
        )
        #expect(configuration.server.port == 7070)
        #expect(configuration.delivery.workers == 5)
    }

    @Test func overrideFillsASectionTheFileLeavesEmpty() throws {
        let configuration = try ConfigurationLoader.load(
            yaml: "server:\n",
            source: "test.yaml",
            environment: ["RECOVERY_GATEWAY_SERVER_PORT": "8443"]
        )
        #expect(configuration.server.port == 8443)
        #expect(configuration.server.host == "127.0.0.1")
    }

    @Test func emptyEnvironmentValueClearsAnOptionalKeyButNotARequiredOne() throws {
        let configuration = try ConfigurationLoader.load(
            yaml: "kratos: { public_url: https://auth.example }",
            source: "test.yaml",
            environment: ["RECOVERY_GATEWAY_KRATOS_PUBLIC_URL": ""]
        )
        #expect(configuration.kratos.publicURL == nil)
        let error = loadError("", environment: ["RECOVERY_GATEWAY_SMTP_URL": ""])
        #expect(error?.key == "smtp.url")
        #expect(error?.problem == "must not be empty")
        #expect(error?.origin == "environment variable RECOVERY_GATEWAY_SMTP_URL")
    }

    @Test func badValueFromEnvironmentOrFlagNamesItsOrigin() {
        let fromEnvironment = loadError("", environment: ["RECOVERY_GATEWAY_DELIVERY_MAX_ATTEMPTS": "0"])
        #expect(
            fromEnvironment?.description
                == "delivery.max_attempts (from environment variable RECOVERY_GATEWAY_DELIVERY_MAX_ATTEMPTS): "
                + "must be an integer from 1 to 100"
        )
        let fromFlag = loadError("", flags: ["server.port": "70000"])
        #expect(fromFlag?.description == "server.port (from command line): must be an integer from 0 to 65535")
        let fromFile = loadError("delivery: { max_attempts: 101 }")
        #expect(fromFile?.description == "delivery.max_attempts: must be an integer from 1 to 100")
    }
}
