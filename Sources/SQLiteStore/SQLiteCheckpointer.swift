import Dispatch
import GRDB
import GRDBSQLite
import Synchronization

/// Runs the WAL checkpoints on a connection of its own, beside the writer instead of inside its
/// commits.
///
/// SQLite's automatic checkpoint runs in the `COMMIT` that grows the WAL past 1,000 pages: it
/// copies those pages into the database file and syncs it, and the writer, with every write waiting
/// for it (accepts, leases, outcomes), waits that long. Here the writer's WAL hook only notes how
/// large the WAL has grown; past ``threshold`` pages it asks this connection to run a `PASSIVE`
/// checkpoint, which takes no write lock, so commits go on meanwhile. Past ``writerLimit`` pages
/// (the checkpoints could not keep up) the writer checkpoints itself, as SQLite would, so the WAL
/// stays bounded. Durability is unchanged: a commit is synced before the hook runs.
final class SQLiteCheckpointer: Sendable {
    /// WAL pages past which a checkpoint is asked for (SQLite's `wal_autocheckpoint` default).
    static let threshold: CInt = 1000
    /// WAL pages past which the writer checkpoints in its own commit. Under steady writes the WAL
    /// only restarts from its beginning after a checkpoint that no commit overtook, which only the
    /// writer's own can promise: this bounds the file (16 MB of 4 KB pages), and as the checkpointer
    /// has copied most frames by then, the writer's checkpoint is short.
    static let writerLimit: CInt = 4 * threshold

    private let path: String
    private let busyTimeout: Double
    /// The checkpointing connection, opened by the first checkpoint (the writer creates the file).
    private let connection = Mutex<DatabaseQueue?>(nil)
    private let queue = DispatchQueue(label: "gateway-store.checkpoint")
    private let scheduled = Atomic(false)

    /// A checkpointer for the database at `path`.
    init(path: String, busyTimeout: Double) {
        self.path = path
        self.busyTimeout = busyTimeout
    }

    /// Makes `db` report its commits here instead of checkpointing in them (`sqlite3_wal_hook`
    /// replaces SQLite's automatic checkpoint). The hook holds no reference: the caller keeps this
    /// checkpointer alive as long as `db` is open (the pool's `prepareDatabase` closure holds it).
    func install(on db: Database) {
        sqlite3_wal_hook(
            db.sqliteConnection,
            { context, connection, _, pages in
                guard let context, let connection else { return SQLITE_OK }
                Unmanaged<SQLiteCheckpointer>.fromOpaque(context).takeUnretainedValue()
                    .committed(pages: pages, connection: connection)
                return SQLITE_OK
            },
            Unmanaged.passUnretained(self).toOpaque()
        )
    }

    /// After each commit of a connection it is installed on, with the pages now in the WAL.
    private func committed(pages: CInt, connection writer: OpaquePointer) {
        if pages >= Self.writerLimit {
            // What SQLite's automatic checkpoint does; a busy checkpointer makes it copy less, not fail.
            sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        } else if pages >= Self.threshold,
            scheduled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        {
            queue.async { [self] in
                // A failed checkpoint (the file is busy, the disk full) is retried after a later commit.
                try? checkpoint()
                scheduled.store(false, ordering: .releasing)
            }
        }
    }

    /// A `PASSIVE` checkpoint on this checkpointer's connection; runs on its queue only.
    private func checkpoint() throws {
        let database = try connection.withLock { connection in
            if let connection { return connection }
            var configuration = Configuration()
            configuration.label = "gateway-store.checkpoint"
            configuration.busyMode = .timeout(busyTimeout)
            let opened = try DatabaseQueue(path: path, configuration: configuration)
            connection = opened
            return opened
        }
        try database.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
    }
}
