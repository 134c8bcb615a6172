import ArgumentParser
import Foundation
import GatewayConfiguration

/// `--config FILE` and the loading every daemon-side command shares: the file (or the built-in
/// defaults), then `RECOVERY_GATEWAY_*` variables, then the command's own flags.
struct ConfigOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The configuration file (YAML). Without it, the built-in defaults (config/gateway.yaml documents them).",
            valueName: "file"
        )
    )
    var config: String?

    /// The configuration, or exit 1 with one line naming the key at fault.
    func load(flags: [String: String] = [:]) throws -> GatewayConfiguration {
        do {
            return try ConfigurationLoader.load(file: config, flags: flags)
        } catch {
            throw operationFailed("configuration: \(error)")
        }
    }
}
