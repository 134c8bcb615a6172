import GRDB
import Synchronization

/// Moves the write-ahead log's pages into the database file on a connection of its own, so that no
/// commit waits for it.
///
/// Left to itself, SQLite checkpoints inside a commit: the commit that finds the WAL over 1,000
/// pages copies them into the database file and syncs it before it returns. Every accept batched
/// into that commit then waits for a copy and a second flush, a few times a second under load, which
/// is the p99 of a durable `202`. Instead, this type runs a `PASSIVE` checkpoint every
/// ``everyCommits`` commits on its own read-write connection: a passive checkpoint takes no lock the
/// writer or the readers wait for, so commits go on while it copies. The writer's own automatic
/// checkpoint stays on, at ``writerPages`` pages, as the backstop: it bounds the WAL should these
/// checkpoints fall behind or fail. (The WAL starts again from its first page at the first write
/// after a checkpoint that copied all of it, whichever connection ran that checkpoint.)
final class WALCheckpointer: Sendable {
    /// Commits between two checkpoints.
    static let everyCommits = 64
    /// The writer connection's `wal_autocheckpoint` (SQLite's default is 1,000): pages in the WAL
    /// beyond which a commit checkpoints itself (about 40 MB with 4 KB pages).
    static let writerPages = 10_000

    private struct State {
        var commits = 0
        var running = false
    }

    private let connection: DatabaseQueue
    private let state = Mutex(State())

    /// Opens the checkpointing connection to the database at `path` (already in WAL mode).
    init(path: String) throws {
        var configuration = Configuration()
        configuration.label = "gateway-store-checkpoint"
        connection = try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Counts one commit; every ``everyCommits``, starts a checkpoint unless one still runs.
    func committed() {
        let start = state.withLock { state in
            state.commits += 1
            guard state.commits >= Self.everyCommits, !state.running else { return false }
            state.commits = 0
            state.running = true
            return true
        }
        guard start else { return }
        Task { await checkpoint() }
    }

    /// One passive checkpoint. A failure is left to the writer's own checkpoint (see the type's
    /// comment): the WAL keeps every commit until some checkpoint copies it, so nothing is lost.
    func checkpoint() async {
        _ = try? await connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        state.withLock { $0.running = false }
    }
}
