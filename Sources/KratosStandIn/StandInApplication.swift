public import Hummingbird
import JSONValue
import Logging

/// The Kratos stand-in as a Hummingbird application: a test double of Kratos's admin API, never a
/// Kratos replacement. Tests run it in-process; `kratos-stand-in` runs it as a binary.
public struct KratosStandIn: Sendable {
    /// Its identities, issued links/codes, faults.
    public let state: StandInState
    /// What it was started with.
    public let configuration: StandInConfiguration

    /// A stand-in holding `configuration.identities`; fails naming an unusable identity.
    public init(configuration: StandInConfiguration = StandInConfiguration()) throws {
        self.configuration = configuration
        self.state = try StandInState(identities: configuration.identities)
    }

    /// The router: admin API (behind faults and, when configured, the Bearer check), health, hooks.
    public func router() -> Router<StandInRequestContext> {
        let router = Router(context: StandInRequestContext.self)
        router.add(middleware: FaultMiddleware(state: state))
        let admin = router.group("admin")
        if let token = configuration.bearerToken { admin.add(middleware: BearerMiddleware(expected: token)) }
        IdentityRoutes(state: state, publicURL: configuration.publicURL).register(on: admin)
        RecoveryRoutes(state: state, configuration: configuration).register(on: admin)
        router.get("health/alive") { _, _ in JSONResponse.make(.ok, json: .object(["status": .string("ok")])) }
        router.get("health/ready") { _, _ in JSONResponse.make(.ok, json: .object(["status": .string("ok")])) }
        HookRoutes(state: state).register(on: router.group("stand-in"))
        return router
    }

    /// An application serving the stand-in on `host:port` (port 0 picks a free one).
    public func application(
        host: String = "127.0.0.1",
        port: Int = 4434,
        logger: Logger? = nil,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        var log = logger ?? Logger(label: "kratos-stand-in")
        if logger == nil { log.logLevel = .warning }
        return Application(
            router: router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "kratos-stand-in"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: log
        )
    }
}
