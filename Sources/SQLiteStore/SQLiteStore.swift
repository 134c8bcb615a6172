import Audit
import Foundation
import GRDB
import Store

/// `GatewayStore` on one SQLite file (GRDB `DatabasePool`: WAL, one writer, concurrent readers).
///
/// Writes run in `BEGIN IMMEDIATE` transactions, so several processes on one file queue on
/// `busy_timeout` instead of failing; commits are durable (`synchronous = FULL`).
public struct SQLiteStore: GatewayStore {
    let pool: DatabasePool
    let chain: AuditChain

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
            if !readOnly { try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") } }
        } catch {
            throw Self.storeError(error)
        }
        self.chain = chain
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
            return try await pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                // inTransaction ran the closure to completion, or threw.
                return result!
            }
        } catch {
            throw Self.storeError(error)
        }
    }

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
        case let error as DatabaseError: .database("\(error.resultCode): \(error.message ?? "no message")")
        default: .database(String(describing: type(of: error)))
        }
    }
}
