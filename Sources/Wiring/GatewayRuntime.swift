import AsyncHTTPClient
import Audit
import Console
import CourierInbox
import Domain
import Foundation
import GatewayConfiguration
import Hummingbird
import Kratos
import Logging
import Mail
import PostgresStore
import Prometheus
import SQLiteStore
import Server
import ServiceLifecycle
import Store
import Templates

/// The gateway put together from its configuration: store (migrated), audit chain, templates,
/// Kratos client, SMTP transport, the accept service and the delivery worker, and the HTTP
/// application that serves them. Everything that can be wrong in the configuration shows here,
/// at start-up, as one ``StartupError`` naming what is wrong.
///
/// The resources it opens (the store's connections, the SMTP transport's threads, the HTTP
/// client) are services of its ``application(logger:)``, which closes each of them once however
/// it ends: run that application once `start` has succeeded.
public struct GatewayRuntime: Sendable {
    public let configuration: GatewayConfiguration
    public let store: any GatewayStore
    public let chain: AuditChain
    /// The `audit.key_rotated` event start-up appended (``rotateAuditKeyIfNeeded(of:chain:)``), if any.
    public let keyRotation: AuditEvent?
    let signingKey: AuditSigningKey
    let templates: TemplateCatalog
    /// Seals Kratos's courier messages at rest and keys their deduplication.
    let payloadKey: CourierPayloadKey
    let transport: SMTPTransport
    let httpClient: HTTPClient
    /// The Kratos admin API client.
    let kratos: KratosClient
    /// Kratos's courier messages as emails: the gateway's templates in the configured locale lookup.
    let composer: CourierComposer
    /// Accepts single sends (the API, the console) and the items of batches (the batch runner).
    let acceptService: AcceptService
    /// Nudged by the intake for every delivery queued; the delivery worker waits on it.
    let signal: DeliverySignal
    /// The worker's recorded outcomes, which `Prefer: wait` waits for.
    let outcomes = DeliveryOutcomes()
    let settings: GatewaySettings
    /// This gateway's metrics (its own registry: gateways in one process do not mix their figures).
    public let metricsRegistry: PrometheusCollectorRegistry
    let metrics: GatewayMetrics
    /// Breaks of the audit log found by the checkpointer or the sequencer (readiness reads it).
    let auditAlarm: AuditAlarm

    /// Checks every part, then opens the resources: creates the audit key file and the SQLite file
    /// if missing, migrates, checks the audit keys against the log (``openStore(_:chain:readOnly:checkKey:)``)
    /// and rotates to a new current key (``rotateAuditKeyIfNeeded(of:chain:)``).
    /// Nothing is left open when it throws.
    public static func start(_ configuration: GatewayConfiguration) async throws(StartupError) -> GatewayRuntime {
        let chain = AuditChain(
            keys: try step("audit.key_file") { try configuration.audit.resolveKeyRing(createIfMissing: true) }
        )
        let signingKey = try step("audit.signing_key_file") {
            try configuration.audit.resolveSigningKey(createIfMissing: true)
        }
        let templates = try step("templates.dir") {
            try TemplateCatalog.load(
                directory: configuration.templates.dir,
                defaultLocale: configuration.templates.defaultLocale.description
            )
        }
        let payloadKey = try step("courier.payload_key_file") {
            try configuration.courier.resolvePayloadKey(createIfMissing: true)
        }
        let smtp = try step("smtp.url") { try configuration.smtp.makeSMTPConfiguration() }
        let delivery = configuration.delivery
        guard let expiresIn = KratosDuration(delivery.expiresIn) else {
            throw StartupError(part: "delivery.expires_in", problem: "must be a positive duration")
        }
        let settings = GatewaySettings(
            from: configuration.smtp.from,
            defaultMethod: delivery.defaultMethod,
            defaultExpiresIn: expiresIn,
            cooldown: delivery.cooldown,
            idempotencyWindow: delivery.idempotencyWindow,
            ratePerKey: delivery.ratePerKey,
            burstPerKey: delivery.burstPerKey,
            lease: delivery.lease,
            workers: delivery.workers,
            retry: RetryPolicy(
                maxAttempts: delivery.maxAttempts,
                initialBackoff: delivery.backoffInitial,
                maxBackoff: delivery.backoffMax
            ),
            batchRate: delivery.batchRate
        )
        let kratosConfiguration = try step("kratos.admin_url") {
            try KratosConfiguration(
                adminURL: configuration.kratos.adminURL,
                bearerToken: configuration.kratos.token?.value,
                publicURL: configuration.kratos.publicURL,
                timeout: configuration.kratos.timeout,
                userAgent: GatewayVersion.userAgent
            )
        }
        // The resources, once everything else is known to be right.
        let transport = try step("smtp.connections") {
            try SMTPTransport(configuration: smtp, connections: configuration.smtp.connections)
        }
        let store: any GatewayStore
        let keyRotation: AuditEvent?
        do {
            store = try await openStore(configuration, chain: chain)
        } catch {
            await transport.shutdown()
            throw error
        }
        do {
            keyRotation = try await rotateAuditKeyIfNeeded(of: store, chain: chain)
        } catch {
            await store.close()
            await transport.shutdown()
            throw error
        }
        let registry = PrometheusCollectorRegistry()
        let metrics = GatewayMetrics(factory: PrometheusGatewayFactory(registry: registry))
        metrics.set(.buildInfo, [("version", GatewayVersion.current)], 1)
        // The accepts' wait for their group commit and its flush, timed by the store's group commit.
        (store as? any GroupCommitting)?.observeGroupCommits(metrics.groupCommitObserver)
        // No tracer: the gateway exports no traces, and with the default (the no-op tracer, when
        // none is bootstrapped) AsyncHTTPClient still opens a span per Kratos call and fills in its
        // attributes, parsing the URL again: 74,000 instructions per email.
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.tracing.tracer = nil
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        let kratos = KratosClient(configuration: kratosConfiguration, httpClient: httpClient)
        let signal = DeliverySignal()
        return GatewayRuntime(
            configuration: configuration,
            store: store,
            chain: chain,
            keyRotation: keyRotation,
            signingKey: signingKey,
            templates: templates,
            payloadKey: payloadKey,
            transport: transport,
            httpClient: httpClient,
            kratos: kratos,
            composer: CourierComposer(catalog: templates, localePolicy: configuration.courier.localePolicy),
            acceptService: AcceptService(
                settings: settings,
                store: store,
                kratos: kratos,
                templates: templates,
                chain: chain,
                signal: signal,
                metrics: metrics
            ),
            signal: signal,
            settings: settings,
            metricsRegistry: registry,
            metrics: metrics,
            auditAlarm: AuditAlarm(metrics: metrics)
        )
    }

    /// Opens the configured store, brings its schema up to date and checks that `chain`'s key
    /// verifies the last `audit.startup_verify_events` events (``checkAuditKey(of:chain:count:)``):
    /// a gateway given another key fails closed here, before anything is written.
    ///
    /// `readOnly` is for commands that must change nothing (`audit export`, `audit verify`): the
    /// store is opened for reading only and not migrated, and a schema other than this
    /// version's is an error naming both versions. `checkKey: false` is for `audit verify`, which
    /// checks the whole log itself.
    public static func openStore(
        _ configuration: GatewayConfiguration,
        chain: AuditChain,
        readOnly: Bool = false,
        checkKey: Bool = true
    ) async throws(StartupError)
        -> any GatewayStore
    {
        let store = try await openUncheckedStore(configuration, chain: chain, readOnly: readOnly)
        guard checkKey else { return store }
        do {
            try await checkAuditKey(
                of: store,
                chain: chain,
                count: configuration.audit.startupVerifyEvents,
                // The key's origin: the file, or the variable that overrides it.
                keySetting: configuration.audit.key == nil ? "audit.key_file" : ConfigurationLoader.auditKeyVariable
            )
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    /// Fails with an error naming `keySetting` (`audit.key_file`) and the first failing seq unless
    /// `chain` verifies the last `count` events of `store` (0: all of them), the head included, and
    /// holds the key of every event waiting to be sequenced.
    static func checkAuditKey(
        of store: any GatewayStore,
        chain: AuditChain,
        count: Int,
        keySetting: String
    ) async throws(StartupError) {
        let result: AuditVerification
        do {
            result = try await store.verifyAuditTail(chain: chain, count: count)
        } catch {
            throw StartupError(part: "store.url", problem: "cannot read the audit log: \(error)")
        }
        if case .broken(let seq, let reason) = result {
            throw StartupError(
                part: keySetting,
                problem:
                    "the key does not verify the audit log: first failing seq \(seq) (\(reason)); the configured key id is \(chain.keyID)"
            )
        }
        // PostgreSQL: the events not sequenced yet name their keys too (a replica that started
        // before this one may have written only those).
        guard let sequencing = store as? any AuditSequencing else { return }
        let waiting: [UnsequencedAuditEvent]
        do {
            waiting = try await sequencing.unsequencedAuditEvents(limit: 1000)
        } catch {
            throw StartupError(part: "store.url", problem: "cannot read the audit log: \(error)")
        }
        for entry in waiting {
            guard case .unknownKey(let keyID) = chain.unlinkedProblem(entry.event) else { continue }
            throw StartupError(
                part: keySetting,
                problem:
                    "the key does not verify the audit log: an unsequenced event is sealed by key id \(keyID), which is not in audit.key_file or audit.previous_key_files; the configured key id is \(chain.keyID)"
            )
        }
    }

    /// Moves the log to `chain`'s current key when its head was sealed by another key the chain holds
    /// (one of `audit.previous_key_files`): appends the `audit.key_rotated` event, sealed under both
    /// (``AuditKeyRotation``), and returns it; `nil` when the head is already the current key's (or the
    /// log is empty). Run after the key check. Another gateway rotating to the same key at the same
    /// time is fine: the loser finds the head on the current key.
    public static func rotateAuditKeyIfNeeded(
        of store: any GatewayStore,
        chain: AuditChain
    ) async throws(StartupError) -> AuditEvent? {
        do {
            let seq = try await store.auditHead()
            guard seq > 0, let head = try await store.auditEvents(afterSeq: seq - 1, limit: 1).first,
                let from = chain.sealingKeyID(of: head), from != chain.keyID
            else { return nil }
            return try await store.appendAudit(AuditKeyRotation.draft(from: from, at: Date()))
        } catch StoreError.auditKeyMismatch(_, let keyID, let current) where keyID == current {
            return nil
        } catch {
            throw StartupError(part: "audit.key_file", problem: "cannot append the key rotation: \(error)")
        }
    }

    private static func openUncheckedStore(
        _ configuration: GatewayConfiguration,
        chain: AuditChain,
        readOnly: Bool
    ) async throws(StartupError)
        -> any GatewayStore
    {
        let store: any GatewayStore
        let settings = configuration.store
        switch settings.kind {
        case .sqlite(let path) where readOnly:
            return try step("store.url") { try SQLiteStore(path: path, chain: chain, readOnly: true) }
        case .sqlite(let path):
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            store = try step("store.url") { try SQLiteStore(path: path, chain: chain) }
        case .postgres where readOnly:
            do {
                return try await PostgresStore.openReadOnly(
                    url: settings.url,
                    chain: chain,
                    connectionWait: settings.connectionWait,
                    maxConnections: settings.maxConnections
                )
            } catch {
                throw StartupError(part: "store.url", problem: "\(error)")
            }
        case .postgres:
            // The store runs its own connection pool until `close()` (the application's end).
            store = try step("store.url") {
                try PostgresStore(
                    url: settings.url,
                    chain: chain,
                    connectionWait: settings.connectionWait,
                    maxConnections: settings.maxConnections
                )
            }
        }
        do {
            try await store.migrate()
        } catch {
            await store.close()
            throw StartupError(part: "store.url", problem: "\(error)")
        }
        return store
    }

    /// The HTTP API and its services, in the order they depend on each other: the resources (store,
    /// HTTP client, SMTP transport), then the delivery worker, the idempotency purge and the audit
    /// checkpoints that use them, and — as in every Hummingbird `Application` — the HTTP server
    /// last, behind its connection guards (header and idle timeouts, a connection cap). A graceful
    /// shutdown (SIGTERM, SIGINT, the end of a test) stops them in reverse: the server stops
    /// accepting, the worker finishes the sends in flight and records them, then the resources
    /// close. An error (the port is taken) cancels them all; each resource still closes once.
    public func application(logger: Logger) -> some ApplicationProtocol {
        let dispatcher = DeliveryDispatcher(
            recovery: RecoveryComposer(issuer: kratos, templates: templates, from: settings.from, metrics: metrics),
            courier: CourierMessageComposer(payloadKey: payloadKey, composer: composer, from: settings.from),
            mail: transport,
            metrics: metrics
        )
        let worker = DeliveryWorker(
            settings: settings,
            store: store,
            dispatcher: dispatcher,
            chain: chain,
            signal: signal,
            outcomes: outcomes,
            logger: logger,
            metrics: metrics
        )
        let checkpointer = AuditCheckpointer(
            store: store,
            key: signingKey,
            chain: chain,
            alarm: auditAlarm,
            everyEvents: configuration.audit.checkpointEveryEvents,
            interval: configuration.audit.checkpointInterval,
            logger: logger
        )
        let (store, httpClient, transport, configuration) = (store, httpClient, transport, configuration)
        var services: [any Service] = [
            ClosingService(description: "store") { await store.close() },
            ClosingService(description: "HTTP client") { try? await httpClient.shutdown() },
            ClosingService(description: "SMTP transport") { await transport.shutdown() },
        ]
        // PostgreSQL: requests write audit events unlinked; every replica's sequencer links them.
        // Before the worker in the list, so it stops after it and links the worker's last events.
        if let sequencing = store as? any AuditSequencing {
            services.append(AuditSequencer(store: sequencing, chain: chain, alarm: auditAlarm, logger: logger))
        }
        services += [
            worker,
            IdempotencyPurge(store: store, logger: logger),
            checkpointer,
            BatchRunner(
                accept: acceptService,
                store: store,
                logger: logger,
                metrics: metrics,
                keys: { name in configuration.apiKey(named: name)?.scopes }
            ),
        ]
        return Application(
            router: router(),
            server: ConnectionGuards.server(configuration.server),
            configuration: .init(address: .hostname(configuration.server.host, port: configuration.server.port)),
            services: services,
            logger: logger
        )
    }

    /// The HTTP API: every route, each behind the middleware it needs. Every request is
    /// authenticated once (``APIKeyAuthenticator``); each route group but the public ones (health,
    /// the API document, metrics) requires a scope of its caller (``RequireScopeMiddleware``).
    /// The support console (`/console`, unless `console.enabled` is false) shares the accept
    /// service and the scope checks; its callers come from its session cookie instead.
    public func router() -> Router<GatewayRequestContext> {
        let accept = acceptService
        let router = Router(context: GatewayRequestContext.self)
        router.add(middleware: HTTPMetricsMiddleware(metrics: metrics))
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: ClientAddressMiddleware(trusted: configuration.server.trustedProxies))
        router.add(middleware: AccessLogMiddleware())
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: APIKeyAuthenticator(configuration: configuration))
        HealthRoutes(store: store, alarm: auditAlarm).add(to: router)
        OpenAPIRoute().add(to: router)
        MetricsRoutes(registry: metricsRegistry, metrics: metrics, store: store).add(to: router)
        RecoveryEmailRoutes(
            accept: accept,
            store: store,
            outcomes: outcomes,
            maxBodyBytes: configuration.server.maxBodyBytes
        ).add(to: router)
        RecoveryBatchRoutes(accept: accept, store: store, maxBodyBytes: configuration.server.maxBodyBytes)
            .add(to: router)
        CourierRoutes(
            receiver: CourierReceiver(
                settings: settings,
                store: store,
                composer: composer,
                payloadKey: payloadKey,
                deduplicator: CourierDeduplicator(
                    key: payloadKey.deduplicationKey,
                    invalidWindow: configuration.courier.invalidDedupWindow
                ),
                chain: chain,
                maxAge: configuration.courier.maxAge,
                dedupRetention: configuration.courier.dedupRetention,
                links: configuration.courier.linkPolicy,
                limits: CourierLimits(
                    ratePerKey: settings.ratePerKey,
                    burstPerKey: settings.burstPerKey,
                    recipientLimit: configuration.courier.recipientLimit,
                    recipientWindow: configuration.courier.recipientWindow
                ),
                signal: signal,
                metrics: metrics
            ),
            maxBodyBytes: configuration.courier.maxBodyBytes
        ).add(to: router)
        let auditVerifier = AuditOnlineVerifier(
            store: store,
            chain: chain,
            signer: signingKey.publicKey
        )
        AuditRoutes(store: store, verifier: auditVerifier).add(to: router)
        if configuration.console.enabled {
            ConsoleRoutes(
                configuration: configuration,
                accept: accept,
                kratos: kratos,
                store: store,
                chain: chain,
                auditVerifier: auditVerifier,
                templates: templates,
                gateway: settings,
                httpClient: httpClient,
                logger: Logger(label: "recovery-gateway.console")
            ).add(to: router)
        }
        return router
    }

    private static func step<T>(_ part: String, _ body: () throws -> T) throws(StartupError) -> T {
        do {
            return try body()
        } catch {
            throw StartupError(part: part, problem: "\(error)")
        }
    }
}

/// Why the gateway cannot start: the configuration key or part at fault and what is wrong
/// (never a secret: the parts' own errors redact them).
public struct StartupError: Error, Sendable, CustomStringConvertible {
    public let part: String
    public let problem: String

    public var description: String { "\(part): \(problem)" }
}
