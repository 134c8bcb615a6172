import CourierInbox
import Domain
import Logging
import Templates

extension GatewayConfiguration: CustomStringConvertible {
    /// The effective configuration in the YAML layout, for a start-up log: passwords in URLs show as
    /// `***`, secrets read from files or the environment as `<redacted>`.
    public var description: String {
        func duration(_ value: Duration) -> String { GoDurations.format(value) }
        func optional(_ value: String?) -> String { value.map { "\"\($0)\"" } ?? "\"\"" }
        var lines = [
            "server:",
            "  host: \(server.host)",
            "  port: \(server.port)",
            "  max_body_bytes: \(server.maxBodyBytes)",
            "  idle_timeout: \(duration(server.idleTimeout))",
            "  header_timeout: \(duration(server.headerTimeout))",
            "  max_connections: \(server.maxConnections)",
            "  request_timeout: \(duration(server.requestTimeout))",
            "  trusted_proxies: [\(server.trustedProxies.map(\.description).joined(separator: ", "))]",
            "kratos:",
            "  admin_url: \(kratos.adminURL)",
            "  token_file: \(optional(kratos.tokenFile))\(kratos.token == nil ? "" : "  # token <redacted>")",
            "  public_url: \(optional(kratos.publicURL))",
            "  timeout: \(duration(kratos.timeout))",
            "smtp:",
            "  url: \(smtp.redactedURL)",
            "  password_file: \(optional(smtp.passwordFile))",
            "  from_address: \(smtp.fromAddress)",
            "  from_name: \"\(smtp.fromName)\"",
            "  connections: \(smtp.connections)",
            "  timeout: \(duration(smtp.timeout))",
            "  ca_file: \(optional(smtp.caFile))",
            "  local_name: \(optional(smtp.localName))",
            "store:",
            "  url: \(store.redactedURL)",
            "  max_connections: \(store.maxConnections)",
            "  connection_wait: \(duration(store.connectionWait))",
            "audit:",
            "  key_file: \(audit.keyFile)\(audit.key == nil ? "" : "  # key from \(ConfigurationLoader.auditKeyVariable) <redacted>")",
            "  previous_key_files: [\(audit.previousKeyFiles.joined(separator: ", "))]",
            "  signing_key_file: \(audit.signingKeyFile)",
            "  checkpoint_every_events: \(audit.checkpointEveryEvents)",
            "  checkpoint_interval: \(duration(audit.checkpointInterval))",
            "  startup_verify_events: \(audit.startupVerifyEvents)",
            "delivery:",
            "  default_method: \(delivery.defaultMethod.rawValue)",
            "  expires_in: \(duration(delivery.expiresIn))",
            "  cooldown: \(duration(delivery.cooldown))",
            "  max_attempts: \(delivery.maxAttempts)",
            "  backoff_initial: \(duration(delivery.backoffInitial))",
            "  backoff_max: \(duration(delivery.backoffMax))",
            "  lease: \(duration(delivery.lease))",
            "  workers: \(delivery.workers)",
            "  rate_per_key: \(delivery.ratePerKey)",
            "  burst_per_key: \(delivery.burstPerKey)",
            "  idempotency_window: \(duration(delivery.idempotencyWindow))",
            "  batch_rate: \(delivery.batchRate)",
            "courier:",
            "  payload_key_file: \(courier.payloadKeyFile)",
            "  locale_paths: [\(courier.localePolicy.paths.map { $0.joined(separator: ".") }.joined(separator: ", "))]",
            "  invalid_dedup_window: \(duration(courier.invalidDedupWindow))",
            "  dedup_retention: \(duration(courier.dedupRetention))",
            "  max_age: \(duration(courier.maxAge))",
            "  max_body_bytes: \(courier.maxBodyBytes)",
            "  allowed_link_origins: [\(courier.linkPolicy.origins.map(\.description).sorted().joined(separator: ", "))]",
            "  recipient_limit: \(courier.recipientLimit)",
            "  recipient_window: \(duration(courier.recipientWindow))",
            "templates: { dir: \(templates.dir), default_locale: \(templates.defaultLocale) }",
            "logging: { level: \(logging.level.rawValue), format: \(logging.format.rawValue) }",
            "console:",
            "  enabled: \(console.enabled)",
            "  secure_cookie: \(console.secureCookie)",
            "  idle_timeout: \(duration(console.idleTimeout))",
            "  session_lifetime: \(duration(console.sessionLifetime))",
            "  sessions_per_agent: \(console.sessionsPerAgent)",
            "  api_key_sign_in: \(console.apiKeySignIn)",
        ]
        if let oidc = console.oidc {
            lines += [
                "  oidc_issuer: \(oidc.issuer)",
                "  oidc_client_id: \(oidc.clientID)",
                "  oidc_client_secret_file: \(oidc.clientSecretFile)",
                "  oidc_redirect_url: \(oidc.redirectURL)",
                "  oidc_scopes: [\(oidc.scopes.joined(separator: ", "))]",
                "  oidc_roles_claim: \(oidc.rolesClaim)",
                "  oidc_roles: { \(oidc.roles.sorted { $0.key < $1.key }.map { "\($0.key): [\($0.value.sorted().map(\.rawValue).joined(separator: ", "))]" }.joined(separator: ", ")) }",
            ]
        }
        lines.append("api_keys:\(apiKeys.isEmpty ? " []" : "")")
        for key in apiKeys {
            let scopes = key.scopes.sorted().map(\.rawValue).joined(separator: ", ")
            lines.append("  - { name: \(key.name), sha256: \(key.sha256), scopes: [\(scopes)] }")
        }
        return lines.joined(separator: "\n")
    }
}
