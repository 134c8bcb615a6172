import ArgumentParser
import GatewayApp
import GatewayConfiguration
import Hummingbird
import Logging
import Store

/// `recovery-gateway serve`: the daemon (HTTP API and delivery workers).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway: the HTTP API and the delivery workers.",
        discussion: "Stops gracefully on SIGTERM or SIGINT: stops accepting, lets the sends in flight finish, exits 0."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "The port to listen on (overrides server.port).")
    var port: Int?

    func run() async throws {
        var flags: [String: String] = [:]
        if let port { flags["server.port"] = String(port) }
        let configuration = try options.load(flags: flags)
        let logger = bootstrapLogging(configuration.logging)
        let runtime: GatewayRuntime
        do {
            runtime = try await GatewayRuntime.start(configuration)
            let application = try runtime.application(logger: logger)
            logger.info(
                "recovery-gateway starting",
                metadata: [
                    "address": "\(configuration.server.host):\(configuration.server.port)",
                    "store": "\(configuration.store.redactedURL)", "smtp": "\(configuration.smtp.redactedURL)",
                    "kratos": "\(configuration.kratos.adminURL)",
                ]
            )
            try await application.runService()
        } catch let error as StartupError {
            throw operationFailed("cannot start: \(error)")
        }
        await runtime.shutdown()
    }
}

/// `recovery-gateway migrate`: create or upgrade the store's schema.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or upgrade the store's schema (serve does it too, at start-up)."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try options.load()
        do {
            let store = try await GatewayRuntime.openStore(configuration, chain: try auditChain(configuration))
            await store.close()
        } catch {
            throw operationFailed("cannot migrate: \(error)")
        }
        print("migrated \(configuration.store.redactedURL)")
    }
}
