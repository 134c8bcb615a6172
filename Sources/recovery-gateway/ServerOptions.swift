import ArgumentParser
import Foundation

/// `--server` and `--api-key-file`, shared by the commands that talk to a running gateway
/// (`send`, `status`, `list`). The API key comes from a file or `RECOVERY_GATEWAY_API_KEY`,
/// never from a flag value: that would show in `ps` and in shell history.
struct ServerOptions: ParsableArguments {
    /// Used when neither `--server` nor `RECOVERY_GATEWAY_SERVER` is given.
    static let defaultServer = "http://127.0.0.1:8080"

    @Option(
        help: ArgumentHelp(
            "The gateway's base URL (default: $RECOVERY_GATEWAY_SERVER, else http://127.0.0.1:8080).",
            valueName: "url"
        )
    )
    var server: String?

    @Option(
        help: ArgumentHelp(
            "File holding the API key (default: the key in $RECOVERY_GATEWAY_API_KEY).",
            valueName: "file"
        )
    )
    var apiKeyFile: String?

    /// The client these options describe, or a usage error (exit 2) naming what is missing or wrong.
    func client(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> GatewayClient {
        let base = server ?? environment["RECOVERY_GATEWAY_SERVER"] ?? Self.defaultServer
        let origin =
            server == nil && environment["RECOVERY_GATEWAY_SERVER"] != nil ? "RECOVERY_GATEWAY_SERVER" : "--server"
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host?.isEmpty == false, url.query == nil, url.user == nil
        else {
            throw ValidationError("\(origin) must be an http:// or https:// URL such as \(Self.defaultServer)")
        }
        return GatewayClient(
            base: base.hasSuffix("/") ? String(base.dropLast()) : base,
            apiKey: try apiKey(environment)
        )
    }

    private func apiKey(_ environment: [String: String]) throws -> String {
        let key: String
        let origin: String
        if let apiKeyFile {
            origin = "--api-key-file \(apiKeyFile)"
            guard let data = FileManager.default.contents(atPath: apiKeyFile) else {
                throw ValidationError("\(origin): cannot read the file (missing, or no permission)")
            }
            key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let value = environment["RECOVERY_GATEWAY_API_KEY"] {
            origin = "RECOVERY_GATEWAY_API_KEY"
            key = value.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            throw ValidationError("no API key: give --api-key-file FILE or set RECOVERY_GATEWAY_API_KEY")
        }
        guard !key.isEmpty else { throw ValidationError("\(origin) holds no API key") }
        // The key goes into a header: a line break or control character would be refused, or worse.
        guard key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ValidationError("\(origin): the API key must be printable ASCII without spaces")
        }
        return key
    }
}
