import ArgumentParser
import Audit
import Foundation
import GatewayConfiguration
import Hummingbird
import Logging
import NIOCore
import Store
import Wiring

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
        MallocArenas.limit()
        var flags: [String: String] = [:]
        if let port { flags["server.port"] = String(port) }
        let configuration = try options.load(flags: flags)
        let logger = bootstrapLogging(configuration.logging)
        let address = "\(configuration.server.host):\(configuration.server.port)"
        do {
            let runtime = try await GatewayRuntime.start(configuration)
            logger.info(
                "recovery-gateway starting",
                metadata: [
                    "address": "\(address)",
                    "store": "\(configuration.store.redactedURL)", "smtp": "\(configuration.smtp.redactedURL)",
                    "kratos": "\(configuration.kratos.adminURL)",
                ]
            )
            if let rotation = runtime.keyRotation {
                logger.notice(
                    "audit key rotated",
                    metadata: [
                        "seq": "\(rotation.seq)",
                        "from_key_id": "\(rotation.details[AuditKeyRotation.fromKeyID] ?? "")",
                        "to_key_id": "\(rotation.keyID ?? "")",
                    ]
                )
            }
            // A child task, cancelled and awaited when this scope ends, i.e. when the application has stopped.
            async let _ = MallocTrim.whenQuiet()
            // Runs until SIGTERM or SIGINT; the application closes what `start` opened, however it ends.
            try await runtime.application(logger: logger).runService()
        } catch let error as StartupError {
            throw operationFailed("cannot start: \(error)")
        } catch let error as IOError {
            // The HTTP server's listening socket is the only one the gateway binds.
            throw operationFailed("cannot start: server.port: cannot listen on \(address): \(error.reasonText)")
        }
    }
}

extension IOError {
    /// What went wrong, as the system says it (`Address already in use`), without NIO's call name.
    fileprivate var reasonText: String { String(cString: strerror(errnoCode)) }
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
