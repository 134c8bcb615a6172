import Audit
import Foundation
import GRDB
import Store

/// `GatewayStore` on one SQLite file (GRDB `DatabasePool`: WAL, one writer, concurrent readers).
///
/// Writes run in `BEGIN IMMEDIATE` transactions, so several processes on one file queue on
/// `busy_timeout` instead of failing; commits are durable (`synchronous = FULL`). Accepts,
/// leases, outcomes and audit appends share transactions through a ``GroupCommit``: the ones
/// waiting while a commit is flushed are written together, each in a savepoint of its own, and
/// made durable by one `fsync`.
public struct SQLiteStore: GatewayStore, GroupCommitting {
    let pool: DatabasePool
    let chain: AuditChain
    /// Accepts, leases, outcomes and audit appends, batched into shared transactions.
    let groupCommit: GroupCommit<WriteUnit, any Sendable>
    /// Checkpoints the WAL beside the writer (nil when read-only).
    let checkpointer: WALCheckpointer?

    /// One write of a group commit; it runs in a savepoint of its own inside the batch's transaction.
    typealias WriteUnit = @Sendable (Database) throws -> any Sendable

    /// The most writes one group commit takes: a batch is one transaction on the one writer, so this
    /// bounds how long a write outside the group commit (a batch upload, a session) waits behind it.
    static let maxBatch = 128

    /// Opens (creating if needed) the database at `path`; the parent directory must exist.
    /// Refuses a database migrated by a newer version. Call `migrate()` before use.
    ///
    /// `readOnly` opens an existing database for reading only, for commands that must change
    /// nothing: no file is created, nothing is migrated, every write fails, and a schema other
    /// than this version's is refused (`schemaOlder`, `schemaNewer`).
    public init(
        path: String,
        chain: AuditChain,
        busyTimeout: TimeInterval = 5,
        readOnly: Bool = false
    )
        throws(StoreError)
    {
        let pool: DatabasePool
        var configuration = Configuration()
        configuration.label = "gateway-store"
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(busyTimeout)
        configuration.readonly = readOnly
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB sets the writer to `synchronous = NORMAL` when it turns WAL on (after
            // prepareDatabase has run), which loses the last commits on a power failure. An
            // accepted request must survive that, so the one writer connection syncs every commit.
            // Its commits leave checkpoints to `WALCheckpointer`, up to the backstop.
            if !readOnly {
                try pool.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA synchronous = FULL")
                    try db.execute(sql: "PRAGMA wal_autocheckpoint = \(WALCheckpointer.writerPages)")
                }
                checkpointer = try WALCheckpointer(path: path)
            } else {
                checkpointer = nil
            }
        } catch {
            throw Self.storeError(error)
        }
        self.pool = pool
        self.chain = chain
        let checkpointer = checkpointer
        groupCommit = GroupCommit(maxBatch: Self.maxBatch) { units in
            await Self.commit(units, pool: pool, checkpointer: checkpointer)
        }
        if readOnly {
            let applied = try appliedMigrations()
            try SchemaVersions.requireExactly(SQLiteSchema.migrator.migrations, applied: applied)
        } else {
            try checkNotSuperseded()
        }
    }

    public func migrate() async throws(StoreError) {
        try checkNotSuperseded()
        do {
            // asyncMigrate runs on GRDB's writer queue instead of blocking a cooperative thread.
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                SQLiteSchema.migrator.asyncMigrate(pool) { result in
                    continuation.resume(with: result.map { _ in () })
                }
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Answers when the database is reachable and fully migrated.
    public func ping() async throws(StoreError) {
        let missing = try await read { db in
            let applied = try SQLiteSchema.migrator.appliedIdentifiers(db)
            return SQLiteSchema.migrator.migrations.filter { !applied.contains($0) }
        }
        guard missing.isEmpty else { throw .schemaNotMigrated(missing: missing) }
    }

    /// What makes a commit durable, as the writer connection reports it: the journal mode (`wal`)
    /// and the `synchronous` level (2, FULL: every commit is synced to disk).
    public func durability() async throws(StoreError) -> (journalMode: String, synchronous: Int) {
        try await write { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "",
                try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
            )
        }
    }

    private func checkNotSuperseded() throws(StoreError) {
        let unknown = try appliedMigrations().subtracting(SQLiteSchema.migrator.migrations).sorted()
        guard unknown.isEmpty else { throw .schemaTooNew(unknown: unknown) }
    }

    /// The names of the migrations the database has, known to this version or not.
    private func appliedMigrations() throws(StoreError) -> Set<String> {
        do {
            return try pool.read { db in try SQLiteSchema.migrator.appliedIdentifiers(db) }
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction; a thrown error rolls it back.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do {
            let value = try await pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                // inTransaction ran the closure to completion, or threw.
                return result!
            }
            checkpointer?.committed()
            return value
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Runs `body` in the next group commit: in a savepoint of its own, inside one transaction with
    /// the writes waiting beside it (see `GroupCommit`); `kind` names it to the observer. A thrown
    /// error rolls back `body` alone.
    func groupWrite<T: Sendable>(
        _ kind: GroupCommitUnitKind,
        _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(StoreError) -> T {
        let value = try await groupCommit.submit({ db in try body(db) }, kind: kind)
        guard let typed = value as? T else {
            throw StoreError.database("a group commit answered \(type(of: value)), not \(T.self)")
        }
        return typed
    }

    /// One group commit: `units` in one `BEGIN IMMEDIATE` transaction, each in a savepoint of its
    /// own so that one that throws is rolled back alone, then one durable `COMMIT` (one `fsync`).
    /// The audit chain stays whole: every append reads the head inside the transaction, so it chains
    /// to the unit before it, and a rolled-back savepoint takes its event, and with it the head it
    /// moved, along.
    private static func commit(
        _ units: [WriteUnit],
        pool: DatabasePool,
        checkpointer: WALCheckpointer?
    ) async -> GroupCommit<WriteUnit, any Sendable>.Outcome {
        do {
            let results = try await pool.writeWithoutTransaction { db in
                var results: [Result<any Sendable, StoreError>] = []
                results.reserveCapacity(units.count)
                try db.inTransaction(.immediate) {
                    for unit in units {
                        var value: (any Sendable)?
                        do {
                            try db.inSavepoint {
                                value = try unit(db)
                                return .commit
                            }
                            // inSavepoint ran the unit to completion, or threw.
                            results.append(.success(value!))
                        } catch {
                            // Some failures (a full disk, I/O) make SQLite roll back the whole
                            // transaction: the batch fails with it, and no unit may run after it
                            // outside a transaction.
                            guard db.isInsideTransaction else { throw error }
                            results.append(.failure(storeError(error)))
                        }
                    }
                    return .commit
                }
                return results
            }
            checkpointer?.committed()
            return .success(results)
        } catch {
            return .failure(storeError(error))
        }
    }

    /// The group commit's figures so far.
    public var groupCommits: GroupCommitStatistics { groupCommit.statistics }

    public func observeGroupCommits(_ observer: GroupCommitObserver) { groupCommit.observe(observer) }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Keeps typed errors; reduces database errors to code and message (never statement arguments).
    static func storeError(_ error: any Error) -> StoreError {
        switch error {
        case let error as StoreError: error
        // A full disk passes once space is freed: worth waiting for, like an unreachable server
        // (the worker then records a sent email instead of letting its lease send it again).
        case let error as DatabaseError where error.resultCode == .SQLITE_FULL:
            .unavailable("\(error.resultCode): \(error.message ?? "no message")")
        case let error as DatabaseError where error.message == StoreError.batchNotRunningMessage: .batchNotRunning
        case let error as DatabaseError: .database("\(error.resultCode): \(error.message ?? "no message")")
        default: .database(String(describing: type(of: error)))
        }
    }
}
