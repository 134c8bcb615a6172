/// The keys the YAML document may contain, section by section: the one list that unknown-key checks,
/// environment variable names and flag overrides are checked against.
enum ConfigurationKeys {
    static let server = [
        "host", "port", "max_body_bytes", "idle_timeout", "header_timeout", "max_connections", "request_timeout",
        "trusted_proxies",
    ]
    static let kratos = ["admin_url", "token_file", "public_url", "timeout"]
    static let smtp = [
        "url", "password_file", "from_address", "from_name", "connections", "timeout", "ca_file", "local_name",
    ]
    static let store = ["url", "max_connections", "connection_wait"]
    static let audit = [
        "key_file", "previous_key_files", "signing_key_file", "checkpoint_every_events", "checkpoint_interval",
        "startup_verify_events",
    ]
    static let delivery = [
        "default_method", "expires_in", "cooldown", "max_attempts", "backoff_initial", "backoff_max", "lease",
        "workers", "rate_per_key", "burst_per_key", "idempotency_window", "batch_rate",
    ]
    static let courier = [
        "payload_key_file", "locale_paths", "invalid_dedup_window", "dedup_retention", "max_age", "max_body_bytes",
        "allowed_link_origins", "recipient_limit", "recipient_window",
    ]
    static let templates = ["dir", "default_locale"]
    static let logging = ["level", "format"]
    static let console = [
        "enabled", "secure_cookie", "idle_timeout", "session_lifetime", "sessions_per_agent", "api_key_sign_in",
        "oidc_issuer", "oidc_client_id", "oidc_client_secret_file", "oidc_redirect_url", "oidc_scopes",
        "oidc_roles_claim", "oidc_roles",
    ]
    static let apiKey = ["name", "sha256", "scopes"]

    /// The sections that hold a mapping of scalar keys, in document order.
    static let sections: [(name: String, keys: [String])] = [
        ("server", server), ("kratos", kratos), ("smtp", smtp), ("store", store), ("audit", audit),
        ("delivery", delivery), ("courier", courier), ("templates", templates), ("logging", logging),
        ("console", console),
    ]

    /// The settings whose value is a list: an environment variable or flag gives them as YAML (`[a, b]`).
    static let lists: Set = ["audit.previous_key_files", "console.oidc_scopes"]

    /// The settings whose value is a mapping: an environment variable or flag gives them as YAML
    /// (`{support-l1: [recovery:read]}`).
    static let mappings: Set = ["console.oidc_roles"]

    /// The list of API keys: a top-level sequence of mappings.
    static let apiKeys = "api_keys"

    /// Every top-level key.
    static let topLevel = sections.map(\.name) + [apiKeys]

    /// Whether `section.key` names a scalar setting.
    static func isScalarKey(section: String, key: String) -> Bool {
        sections.contains { $0.name == section && $0.keys.contains(key) }
    }
}
