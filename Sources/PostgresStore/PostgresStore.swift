import Audit
import Foundation
import Logging
import PostgresNIO
import Store

/// `GatewayStore` on PostgreSQL, for several gateway replicas on one database.
///
/// Everything that must hold across replicas is decided by the database, never by a lock in this
/// process: idempotency keys by the primary key of `idempotency_records` (`INSERT … ON CONFLICT`),
/// cooldown by a transaction-scoped advisory lock per identity and recipient, leases by
/// `FOR UPDATE SKIP LOCKED`, the audit chain by a sequencer that alone locks the head row (see `PostgresAuditLog`).
/// Within one process, accepts of one key share one transaction (`AcceptFlights`), so that a
/// burst of retries cannot take the pool's connections to wait on each other. Accepts and
/// outcomes waiting at the same time share one transaction and one commit (a ``GroupCommit``, see
/// `writeBatch`); their audit events go to the intake unlinked, and no request waits for the chain.
///
/// The store owns its `PostgresClient` (a connection pool) and runs it in a task of its own from
/// `init` until `close()`, so it works the same from `serve` and from one-shot commands
/// (`migrate`, `audit export`). In `serve` the gateway's service group calls `close()`, after
/// the delivery worker has stopped and recorded the outcome of the sends in flight.
public struct PostgresStore: GatewayStore, GroupCommitting {
    let client: PostgresClient
    let chain: AuditChain
    let logger: Logger
    let connectionWait: Duration
    /// Same-key accepts of this process, one transaction at a time.
    let acceptFlights = AcceptFlights()
    /// Accepts and outcomes, batched into shared transactions.
    let groupCommit: GroupCommit<PostgresWrite, PostgresWritten>
    /// How long the sequencer's rounds held the audit head.
    let headHolds = HeadHolds()
    /// The unsequenced audit events found rewritten.
    let intakeRejections = IntakeRejections()
    /// Every session is read-only: reads do not sequence the intake.
    let readOnly: Bool
    private let runTask: Task<Void, Never>

    /// Connects lazily to `url` (`postgres://user[:password]@host[:port]/database[?sslmode=…]`).
    /// Nothing is sent before the first call; call `migrate()` before use and `close()` at the end.
    /// - Parameters:
    ///   - connectTimeout: how long one attempt to connect may take.
    ///   - connectionWait: how long a call waits for a pooled connection (the server is down, or
    ///     every connection is busy) before it fails with `StoreError.unavailable`.
    ///   - maxConnections: the pool's size.
    ///   - readOnly: every session is read-only (`default_transaction_read_only`), so the server
    ///     refuses every write; `openReadOnly` opens such a store and checks its schema.
    public init(
        url: String,
        chain: AuditChain,
        connectTimeout: Duration = .seconds(3),
        connectionWait: Duration = .seconds(5),
        maxConnections: Int = 20,
        readOnly: Bool = false,
        logger: Logger = Logger(label: "postgres-store")
    ) throws(StoreError) {
        var configuration = try PostgresURL.configuration(url)
        configuration.options.connectTimeout = connectTimeout
        configuration.options.maximumConnections = maxConnections
        configuration.options.minimumConnections = 0
        if readOnly { configuration.options.additionalStartupParameters = [("default_transaction_read_only", "on")] }
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.chain = chain
        self.logger = logger
        self.connectionWait = connectionWait
        self.readOnly = readOnly
        groupCommit = GroupCommit(maxBatch: Self.maxBatch, writers: Self.groupCommitWriters) { units in
            await Self.commit(
                units,
                chain: chain,
                client: client,
                wait: connectionWait,
                logger: logger
            )
        }
        runTask = Task { await client.run() }
    }

    /// Opens the database at `url` for commands that must change nothing: the server refuses
    /// every write, nothing is migrated, and a schema other than this version's is refused
    /// (`schemaOlder`, `schemaNewer`, naming both versions).
    public static func openReadOnly(
        url: String,
        chain: AuditChain,
        connectionWait: Duration = .seconds(5),
        maxConnections: Int = 20,
        logger: Logger = Logger(label: "postgres-store")
    ) async throws(StoreError) -> PostgresStore {
        let store = try PostgresStore(
            url: url,
            chain: chain,
            connectionWait: connectionWait,
            maxConnections: maxConnections,
            readOnly: true,
            logger: logger
        )
        do {
            try SchemaVersions.requireExactly(PostgresSchema.names, applied: try await PostgresSchema.applied(store))
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    /// Closes the pool's connections; the store answers nothing after this.
    public func close() async {
        runTask.cancel()
        await runTask.value
        let commits = groupCommit.statistics
        let holds = headHolds.summary
        guard commits.batches > 0 || holds.batches > 0 else { return }
        logger.info(
            "group commits",
            metadata: [
                "batches": "\(commits.batches)", "units": "\(commits.units)",
                "sequencer_rounds": "\(holds.batches)", "sequenced_events": "\(holds.events)",
                "sequencer_head_held_us_per_round": "\(holds.mean / .microseconds(1))",
            ]
        )
    }

    public func migrate() async throws(StoreError) {
        try await PostgresSchema.migrate(self)
    }

    /// Answers when the database is reachable and fully migrated.
    public func ping() async throws(StoreError) {
        let applied = try await PostgresSchema.applied(self)
        let missing = PostgresSchema.names.filter { !applied.contains($0) }
        guard missing.isEmpty else { throw .schemaNotMigrated(missing: missing) }
    }

    /// How a transaction body ends: commit, or roll back (a refusal that must write nothing) —
    /// either way with a value for the caller.
    enum TransactionEnd<T: Sendable>: Sendable {
        case commit(T)
        case rollback(T)
    }

    /// Runs `body` in one transaction (READ COMMITTED: the locks each statement takes make the
    /// decisions, see the type's comment); a thrown error rolls it back.
    func transaction<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(StoreError) -> T {
        try await transaction { connection in TransactionEnd.commit(try await body(connection)) }
    }

    /// Runs `body` in one transaction that commits or rolls back as `body` says. A serialization
    /// failure or deadlock, which the lock order should rule out, is retried a few times.
    func transaction<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> TransactionEnd<T>
    ) async throws(StoreError) -> T {
        try await Self.transaction(client: client, wait: connectionWait, logger: logger, body)
    }

    /// `transaction(_:)` on `client`'s pool, for the group commit, which `init` makes before the
    /// store exists.
    static func transaction<T: Sendable>(
        client: PostgresClient,
        wait: Duration,
        logger: Logger,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> TransactionEnd<T>
    ) async throws(StoreError) -> T {
        var tries = 0
        while true {
            do {
                return try await PooledCall.run(client, wait: wait) { connection in
                    try await connection.query("BEGIN", logger: logger)
                    let end: TransactionEnd<T>
                    do {
                        end = try await body(connection)
                    } catch {
                        // A closed connection needs no ROLLBACK (the server rolled back), and a
                        // statement sent on it would never be answered (see `PooledCall`).
                        if !connection.isClosed { _ = try? await connection.query("ROLLBACK", logger: logger) }
                        throw error
                    }
                    switch end {
                    case .commit(let value):
                        try await connection.query("COMMIT", logger: logger)
                        return value
                    case .rollback(let value):
                        try await connection.query("ROLLBACK", logger: logger)
                        return value
                    }
                }
            } catch {
                tries += 1
                if tries < 4, let psql = error as? PSQLError, Self.isRetryable(psql) { continue }
                throw Self.storeError(error)
            }
        }
    }

    /// Runs `body` on one pooled connection, outside a transaction.
    func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(StoreError) -> T {
        do {
            return try await leased(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Runs `body` on a pooled connection, answered in bounded time (see `PooledCall`).
    private func leased<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await PooledCall.run(client, wait: connectionWait, body)
    }

    /// The group commit's figures so far.
    public var groupCommits: GroupCommitStatistics { groupCommit.statistics }

    public func observeGroupCommits(_ observer: GroupCommitObserver) { groupCommit.observe(observer) }

    private static func isRetryable(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01"
    }

    /// Keeps typed errors. A server error becomes its SQLSTATE and message (never the statement,
    /// its arguments or the server's `detail`, which may quote a row); a failure to reach the
    /// server becomes `.unavailable`, which the API answers with 503 `store_unavailable`.
    static func storeError(_ error: any Error) -> StoreError {
        switch error {
        case let error as StoreError:
            return error
        case let error as PSQLError:
            if let info = error.serverInfo {
                let state = info[.sqlState] ?? "?"
                // Class 57 (operator intervention: shutdown, admin terminate) and 08 (connection).
                if state.hasPrefix("57") || state.hasPrefix("08") {
                    return .unavailable("\(state): \(info[.message] ?? "no message")")
                }
                // `raise_exception` from the trigger of v8_batch_control.
                if state == "P0001", info[.message] == StoreError.batchNotRunningMessage { return .batchNotRunning }
                return .database("\(state): \(info[.message] ?? "no message")")
            }
            return .unavailable("\(error.code)")
        case let error as PostgresDecodingError:
            return .corruptRow(table: "?", column: error.columnName)
        default:
            // Connection-pool and channel errors (refused, reset, circuit breaker).
            return .unavailable(String(describing: type(of: error)))
        }
    }
}
