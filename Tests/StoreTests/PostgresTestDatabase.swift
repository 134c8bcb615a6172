import Audit
import Foundation
import Logging
import PostgresNIO
import PostgresStore
import Store
import Testing

/// Throwaway databases on the test PostgreSQL server named by `RECOVERY_GATEWAY_TEST_POSTGRES_URL`
/// (scripts/test.sh starts one; by hand: `scripts/postgres.sh start /tmp/pg` prints the URL).
enum PostgresTestDatabase {
    static let variable = "RECOVERY_GATEWAY_TEST_POSTGRES_URL"

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "\(variable) is not set: the PostgreSQL tests need a server. Start a throwaway one with "
                + "`scripts/postgres.sh start /tmp/rg-pg` and export the URL it prints as \(variable) "
                + "(scripts/test.sh does both)."
        }
    }

    /// The server's URL (its maintenance database), or a failure saying how to get one.
    static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment[variable], !url.isEmpty else { throw Missing() }
        return url
    }

    /// A client on the maintenance database, shared by the whole test process (its run task lives
    /// as long as the process).
    private static let admin: Result<PostgresClient, any Error> = Result {
        let client = PostgresClient(configuration: try configuration(try serverURL()))
        Task.detached { await client.run() }
        return client
    }

    /// An empty database of its own; returns its URL.
    static func create() async throws -> (url: String, name: String) {
        let client = try admin.get()
        let name = "store_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        return (try url(forDatabase: name), name)
    }

    /// Drops `name`, closing whatever connections are still open to it.
    static func drop(_ name: String) async {
        guard let client = try? admin.get() else { return }
        _ = try? await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
    }

    /// A fresh, migrated store on a database of its own, plus its cleanup.
    static func makeStore(chain: AuditChain) async throws -> StoreUnderTest {
        let (url, name) = try await create()
        let store = try patientStore(url: url, chain: chain)
        try await store.migrate()
        var subject = StoreUnderTest(store: store, chain: chain) {
            try patientStore(url: url, chain: $0)
        } cleanup: {
            // The contract suite's cleanup is synchronous: close and drop in the background. The
            // test cluster is thrown away at the end anyway.
            Task.detached {
                await store.close()
                await drop(name)
            }
        }
        subject.holdWrites = { try await lockAuditHead(url: url) }
        subject.execute = { sql in try await execute(sql, url: url) }
        subject.bytesLiteral = { "decode('\(Hex.encode($0))', 'hex')" }
        return subject
    }

    /// A store for the contract suite, which tests what the store does, not how fast a loaded machine
    /// lets PostgreSQL start a backend: the full run starts dozens of stores at once, and on a busy
    /// 2-core machine a connection took longer than the default 5 s wait. (The outage tests set
    /// their own short waits.)
    private static func patientStore(url: String, chain: AuditChain) throws -> PostgresStore {
        try PostgresStore(url: url, chain: chain, connectTimeout: .seconds(30), connectionWait: .seconds(60))
    }

    /// Locks the audit intake against writes from a connection of its own until released: every
    /// transaction that writes an audit event waits for it (requests share no lock otherwise).
    private static func lockAuditHead(url: String) async throws -> HeldWrites {
        let client = PostgresClient(configuration: try configuration(url))
        let run = Task { await client.run() }
        let (locked, lockedSignal) = AsyncStream.makeStream(of: Void.self)
        let (released, releaseSignal) = AsyncStream.makeStream(of: Void.self)
        let holder = Task {
            defer { lockedSignal.finish() }
            // The async `query` (it takes a logger) waits for each statement's rows: the one without a
            // logger answers a future, and the head would be reported locked before it is.
            let logger = Logger(label: "audit-head-holder")
            try await client.withConnection { connection in
                for try await _ in try await connection.query("BEGIN", logger: logger) {}
                for try await _ in try await connection.query(
                    "LOCK TABLE audit_intake IN EXCLUSIVE MODE",
                    logger: logger
                ) {
                }
                lockedSignal.yield()
                for await _ in released { break }
                for try await _ in try await connection.query("COMMIT", logger: logger) {}
            }
        }
        for await _ in locked { break }
        return HeldWrites {
            releaseSignal.yield()
            defer { run.cancel() }
            try await holder.value
        }
    }

    /// Runs `sql` on the database at `url`, on a connection of its own.
    private static func execute(_ sql: String, url: String) async throws {
        let client = PostgresClient(configuration: try configuration(url))
        let run = Task { await client.run() }
        defer { run.cancel() }
        try await client.withConnection { connection in
            for try await _ in try await connection.query(
                PostgresQuery(unsafeSQL: sql),
                logger: Logger(label: "execute")
            ) {}
        }
    }

    static func url(forDatabase name: String) throws -> String {
        var components = try #require(URLComponents(string: try serverURL()))
        components.path = "/" + name
        return try #require(components.string)
    }

    static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        let components = try #require(URLComponents(string: url))
        return PostgresClient.Configuration(
            host: try #require(components.host),
            port: components.port ?? 5432,
            username: components.user ?? "postgres",
            password: components.password,
            database: String(components.path.dropFirst()),
            tls: .disable
        )
    }
}

/// Runs `call` until it gets a connection from the pool: a call refused because no connection came
/// within the pool's wait sent nothing to the server, so trying it again changes nothing twice. On a
/// busy 2-core machine a new connection (a forked backend and its authentication) can take longer
/// than the short waits the outage tests use to bound their other calls.
func onceConnected<T>(
    within limit: Duration = .seconds(30),
    _ call: () async throws -> T
) async throws -> T {
    let deadline = ContinuousClock.now + limit
    while true {
        do {
            return try await call()
        } catch StoreError.unavailable(let message)
            where message.hasPrefix("no database connection within") && ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
