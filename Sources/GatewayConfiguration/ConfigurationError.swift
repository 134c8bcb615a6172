/// Why the configuration cannot be used: names the key path and the rule it breaks, never the value
/// (a value may be a password, a token or a key).
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The key path in the YAML document, e.g. `delivery.max_attempts` or `api_keys[1].scopes`.
    public var key: String
    /// What is wrong, e.g. `must be an integer from 1 to 100`.
    public var problem: String
    /// Where the value came from when not from the file, e.g. `environment variable RECOVERY_GATEWAY_SMTP_URL`.
    public var origin: String?

    /// Builds an error for `key`.
    public init(key: String, problem: String, origin: String? = nil) {
        self.key = key
        self.problem = problem
        self.origin = origin
    }

    /// `delivery.max_attempts: must be an integer from 1 to 100` (plus the origin when known).
    public var description: String {
        let subject = key.isEmpty ? "configuration" : key
        guard let origin else { return "\(subject): \(problem)" }
        return "\(subject) (from \(origin)): \(problem)"
    }
}
