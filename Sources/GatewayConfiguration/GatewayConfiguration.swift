import CourierInbox
import Domain

/// The gateway's whole configuration as a plain value: built-in ``defaults``, or what
/// ``ConfigurationLoader`` reads from the YAML file, the environment and the command line.
public struct GatewayConfiguration: Sendable, Equatable, Decodable {
    public var server: ServerSettings
    public var kratos: KratosSettings
    public var smtp: SMTPSettings
    public var store: StoreSettings
    public var audit: AuditSettings
    public var delivery: DeliverySettings
    public var courier: CourierSettings
    public var templates: TemplateSettings
    public var logging: LoggingSettings
    /// The support console at `/console`.
    public var console: ConsoleSettings
    /// The API keys accepted by the HTTP API; none by default (then every call is refused).
    public var apiKeys: [APIKey]

    /// Everything `config/gateway.yaml` documents as default: runs on one machine with no other services.
    public static let defaults = GatewayConfiguration(
        server: .defaults,
        kratos: .defaults,
        smtp: .defaults,
        store: .defaults,
        audit: .defaults,
        delivery: .defaults,
        courier: .defaults,
        templates: .defaults,
        logging: .defaults,
        apiKeys: []
    )

    /// Builds a configuration from its sections.
    public init(
        server: ServerSettings,
        kratos: KratosSettings,
        smtp: SMTPSettings,
        store: StoreSettings,
        audit: AuditSettings,
        delivery: DeliverySettings,
        courier: CourierSettings = .defaults,
        templates: TemplateSettings,
        logging: LoggingSettings,
        console: ConsoleSettings = .defaults,
        apiKeys: [APIKey]
    ) {
        self.server = server
        self.kratos = kratos
        self.smtp = smtp
        self.store = store
        self.audit = audit
        self.delivery = delivery
        self.courier = courier
        self.templates = templates
        self.logging = logging
        self.console = console
        self.apiKeys = apiKeys
    }

    /// The key with this name, if configured.
    public func apiKey(named name: String) -> APIKey? { apiKeys.first { $0.name == name } }

    /// The configured key whose hash matches `presentedKey`, if any: the key is hashed once, and
    /// its hash compared with every configured one, each in constant time.
    public func apiKey(matching presentedKey: String) -> APIKey? {
        let digest = APIKey.digest(of: presentedKey)
        var found: APIKey?
        for key in apiKeys where key.matches(digest: digest) && found == nil { found = key }
        return found
    }

    public init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, known: ConfigurationKeys.topLevel)
        let mapping = "a mapping of keys to values"
        server = try reader.nested(ServerSettings.self, "server", expected: mapping) ?? .defaults
        kratos = try reader.nested(KratosSettings.self, "kratos", expected: mapping) ?? .defaults
        smtp = try reader.nested(SMTPSettings.self, "smtp", expected: mapping) ?? .defaults
        store = try reader.nested(StoreSettings.self, "store", expected: mapping) ?? .defaults
        audit = try reader.nested(AuditSettings.self, "audit", expected: mapping) ?? .defaults
        delivery = try reader.nested(DeliverySettings.self, "delivery", expected: mapping) ?? .defaults
        courier = try reader.nested(CourierSettings.self, "courier", expected: mapping) ?? .defaults
        templates = try reader.nested(TemplateSettings.self, "templates", expected: mapping) ?? .defaults
        logging = try reader.nested(LoggingSettings.self, "logging", expected: mapping) ?? .defaults
        console = try reader.nested(ConsoleSettings.self, "console", expected: mapping) ?? .defaults
        guard console.secureCookie || ConsoleSettings.isLoopback(server.host) else {
            throw ConfigurationError(
                key: "console.secure_cookie",
                problem: "may be false only when server.host is a loopback address (127.0.0.1, ::1, localhost)"
            )
        }
        apiKeys =
            try reader.nested([APIKey].self, ConfigurationKeys.apiKeys, expected: "a list of {name, sha256, scopes}")
            ?? []
        var names: Set<String> = []
        for (index, key) in apiKeys.enumerated() where !names.insert(key.name).inserted {
            throw ConfigurationError(key: "api_keys[\(index)].name", problem: "the name \(key.name) is used twice")
        }
        if courier.allowedLinkOrigins == nil {
            courier.allowedLinkOrigins = kratos.publicURL.flatMap(LinkOrigin.init(url:)).map { [$0] }
        }
        // A courier key could otherwise have any link sent in the organisation's recovery email.
        if courier.linkPolicy.origins.isEmpty, apiKeys.contains(where: { $0.scopes.contains(.courierKratos) }) {
            throw ConfigurationError(
                key: "courier.allowed_link_origins",
                problem:
                    "must list Kratos's public origin (or set kratos.public_url) when an API key has courier:kratos"
            )
        }
    }
}
