import Audit
import Foundation
import Yams

// Why Yams + Codable and not swift-configuration: swift-configuration 1.4.0 layers file, environment,
// secret-file and CLI providers nicely, but its YAML provider accepts only scalars and arrays of
// scalars (`api_keys`, a list of objects, throws `nonScalarValueInArray`) and it cannot report
// unknown keys, which must stop start-up here. Yams gives the document as a node tree: we lay the
// environment and flag values over that tree (so every layer goes through the same checks), then
// decode it with `Decodable` types that refuse unknown keys and name the key path of every error.

/// Reads the configuration: the YAML file (or the built-in defaults without one), then
/// `RECOVERY_GATEWAY_<SECTION>_<KEY>` environment variables, then command-line flags, each layer
/// overriding the one before; then checks every value and reads the `*_file` secrets.
public enum ConfigurationLoader {
    /// The prefix of every environment variable the configuration reads.
    public static let environmentPrefix = "RECOVERY_GATEWAY_"
    /// The environment variable that gives the audit key directly, base64-encoded.
    public static let auditKeyVariable = "RECOVERY_GATEWAY_AUDIT_KEY"

    /// Loads `file` (`nil`: start from the defaults), overridden by `environment` and then by `flags`,
    /// which map a key path to its value as text (`["server.port": "9090"]` for `--port 9090`;
    /// `"api_keys"` takes a YAML list).
    public static func load(
        file: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        flags: [String: String] = [:]
    ) throws(ConfigurationError) -> GatewayConfiguration {
        guard let file else { return try load(yaml: "", source: "defaults", environment: environment, flags: flags) }
        let data = try ConfiguredFile.data(file, key: "--config")
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(key: "--config", problem: "the file \(file) is not UTF-8 text")
        }
        return try load(yaml: text, source: file, environment: environment, flags: flags)
    }

    /// Loads the YAML document `yaml` (`source` names it in errors), overridden as ``load(file:environment:flags:)`` does.
    public static func load(
        yaml: String,
        source: String,
        environment: [String: String] = [:],
        flags: [String: String] = [:]
    ) throws(ConfigurationError) -> GatewayConfiguration {
        var root = try parse(yaml, source: source)
        let overrides =
            try ConfigurationOverride.fromEnvironment(environment) + ConfigurationOverride.fromFlags(flags)
        for override in overrides { try apply(override, to: &root) }
        var configuration: GatewayConfiguration
        do {
            configuration = try YAMLDecoder().decode(GatewayConfiguration.self, from: root)
        } catch var error as ConfigurationError {
            // The last layer that set the key is where the bad value came from.
            error.origin = overrides.last { error.key == $0.path || error.key.hasPrefix($0.path + "[") }?.origin
            throw error
        } catch let DecodingError.typeMismatch(_, context) {
            throw ConfigurationError(key: CodingPath.render(context.codingPath), problem: "has the wrong type")
        } catch {
            throw ConfigurationError(key: "", problem: "\(source) cannot be read as a configuration")
        }
        if let encoded = environment[auditKeyVariable] {
            do {
                configuration.audit.key = try AuditKey(text: encoded)
            } catch {
                throw ConfigurationError(
                    key: "audit.key",
                    problem: "must be base64 or hex of at least \(AuditKey.minimumByteCount) bytes",
                    origin: "environment variable \(auditKeyVariable)"
                )
            }
        }
        try checkMovedKeyFiles(configuration)
        try configuration.audit.checkExistingKeyFiles()
        if FileManager.default.fileExists(atPath: configuration.courier.payloadKeyFile) {
            _ = try configuration.courier.resolvePayloadKey(createIfMissing: false)
        }
        return configuration
    }

    /// Key files defaulted to `data/`, beside the SQLite database, before they got `keys/`: a key
    /// still at the old default is not silently replaced by a new one (a new audit key would break
    /// the chain); the start stops, saying where the key is and how to move it.
    private static func checkMovedKeyFiles(_ configuration: GatewayConfiguration) throws(ConfigurationError) {
        let settings: [(String, String?, String)] = [
            (
                "audit.key_file", configuration.audit.key == nil ? configuration.audit.keyFile : nil,
                AuditSettings.defaults.keyFile
            ),
            ("audit.signing_key_file", configuration.audit.signingKeyFile, AuditSettings.defaults.signingKeyFile),
            ("courier.payload_key_file", configuration.courier.payloadKeyFile, CourierSettings.defaults.payloadKeyFile),
        ]
        for case let (key, path?, defaultPath) in settings where path == defaultPath {
            let old = "data/" + URL(fileURLWithPath: defaultPath).lastPathComponent
            guard !FileManager.default.fileExists(atPath: path), FileManager.default.fileExists(atPath: old) else {
                continue
            }
            throw ConfigurationError(
                key: key,
                problem: "the key is in \(old), the default before key files got a directory of their own: move it "
                    + "(mkdir -m 700 keys && mv \(old) \(path)) or set \(key): \(old)"
            )
        }
    }

    /// The document's root mapping (empty for an empty document); syntax errors give line and column only,
    /// since the offending line may hold a secret.
    private static func parse(_ yaml: String, source: String) throws(ConfigurationError) -> Node {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigurationError(key: "", problem: "\(source) is not valid YAML: \(describe(error))")
        } catch {
            throw ConfigurationError(key: "", problem: "\(source) is not valid YAML")
        }
        guard let node, node.null == nil else { return Node([(Node, Node)]()) }
        guard node.mapping != nil else {
            throw ConfigurationError(key: "", problem: "\(source) must be a mapping of sections (server, smtp, …)")
        }
        return node
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return "line \(mark.line), column \(mark.column): \(problem)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            return "line \(context.mark.line): duplicated keys \(duplicates.joined(separator: ", "))"
        default:
            return "unreadable text"
        }
    }

    /// The node an override of `section.key` puts in the document: a string, or for a list setting
    /// (``ConfigurationKeys/lists``) the YAML of its value (`[a, b]`; one value alone is a list of one).
    private static func value(of override: ConfigurationOverride) throws(ConfigurationError) -> Node {
        guard ConfigurationKeys.lists.contains(override.path) else { return Node(override.value, Tag(.str)) }
        let node: Node?
        do {
            node = try Yams.compose(yaml: override.value)
        } catch {
            throw ConfigurationError(key: override.path, problem: "is not valid YAML", origin: override.origin)
        }
        guard let node, node.null == nil else { return Node([Node]()) }
        return node.sequence == nil ? Node([node]) : node
    }

    /// Sets the override's value in the document, creating its section if needed.
    private static func apply(_ override: ConfigurationOverride, to root: inout Node) throws(ConfigurationError) {
        guard let key = override.key else {
            do {
                root[override.section] = try Yams.compose(yaml: override.value) ?? Node([Node]())
            } catch {
                throw ConfigurationError(key: override.path, problem: "is not valid YAML", origin: override.origin)
            }
            return
        }
        var section = root[override.section] ?? Node([(Node, Node)]())
        if section.null != nil { section = Node([(Node, Node)]()) }
        section[key] = try value(of: override)
        root[override.section] = section
    }
}
