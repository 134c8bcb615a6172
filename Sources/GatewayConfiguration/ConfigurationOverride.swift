/// One value laid over the YAML document: from an environment variable or a command-line flag.
struct ConfigurationOverride: Sendable {
    /// The section, e.g. `smtp`, or `api_keys`.
    var section: String
    /// The key inside the section; `nil` for `api_keys`, whose value is a YAML list.
    var key: String?
    var value: String
    /// E.g. `environment variable RECOVERY_GATEWAY_SMTP_URL` or `command line`.
    var origin: String

    /// `section.key`, as errors name it.
    var path: String { key.map { "\(section).\($0)" } ?? section }

    /// The overrides the `RECOVERY_GATEWAY_<SECTION>_<KEY>` variables of `environment` ask for.
    ///
    /// Variables whose name starts with a section's prefix must name one of its keys (a typo stops
    /// start-up); other `RECOVERY_GATEWAY_*` variables are left to their users (the CLI).
    /// `RECOVERY_GATEWAY_AUDIT_KEY` is not an override: ``ConfigurationLoader`` reads it itself.
    static func fromEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> [ConfigurationOverride] {
        let prefix = ConfigurationLoader.environmentPrefix
        var overrides: [ConfigurationOverride] = []
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix(prefix) {
            let origin = "environment variable \(name)"
            if name == ConfigurationLoader.auditKeyVariable { continue }
            if name == prefix + ConfigurationKeys.apiKeys.uppercased() {
                overrides.append(.init(section: ConfigurationKeys.apiKeys, key: nil, value: value, origin: origin))
                continue
            }
            for section in ConfigurationKeys.sections where name.hasPrefix(prefix + section.name.uppercased() + "_") {
                let key = name.dropFirst(prefix.count + section.name.count + 1).lowercased()
                guard section.keys.contains(key) else {
                    throw ConfigurationError(
                        key: "\(section.name).\(key)",
                        problem: "unknown key (known keys here: \(section.keys.joined(separator: ", ")))",
                        origin: origin
                    )
                }
                overrides.append(.init(section: section.name, key: key, value: value, origin: origin))
            }
        }
        return overrides
    }

    /// The overrides given by the command line as `section.key` → value (e.g. `server.port` for `--port`).
    static func fromFlags(_ flags: [String: String]) throws(ConfigurationError) -> [ConfigurationOverride] {
        var overrides: [ConfigurationOverride] = []
        for (path, value) in flags.sorted(by: { $0.key < $1.key }) {
            if path == ConfigurationKeys.apiKeys {
                overrides.append(.init(section: path, key: nil, value: value, origin: "command line"))
                continue
            }
            let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, ConfigurationKeys.isScalarKey(section: parts[0], key: parts[1]) else {
                throw ConfigurationError(key: path, problem: "unknown key", origin: "command line")
            }
            overrides.append(.init(section: parts[0], key: parts[1], value: value, origin: "command line"))
        }
        return overrides
    }
}
