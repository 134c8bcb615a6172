import Audit
import Foundation
import GRDB
import Store

@testable import SQLiteStore

/// A fresh, migrated, empty store for one contract test, with the chain that seals its audit log.
struct StoreUnderTest: Sendable {
    let store: any GatewayStore
    let chain: AuditChain
    /// Another store on the same database with `chain`, as another replica (or a restart) would
    /// open it; the caller closes it.
    let reopen: @Sendable (AuditChain) throws -> any GatewayStore
    let cleanup: @Sendable () -> Void
    /// Keeps the store's writes from committing until the answer's `release`: SQLite's one writer
    /// is busy, PostgreSQL's audit intake is locked by another connection. A test sees batches form.
    var holdWrites: @Sendable () async throws -> HeldWrites = { throw HeldWrites.Unsupported() }
    /// Runs one SQL statement on the store's database, as another program (an older version) would.
    var execute: @Sendable (String) async throws -> Void = { _ in throw HeldWrites.Unsupported() }
    /// `bytes` as a literal of the store's SQL.
    var bytesLiteral: @Sendable (Data) -> String = { "X'\(Hex.encode($0))'" }
}

/// Writes held by ``StoreUnderTest/holdWrites``.
struct HeldWrites: Sendable {
    struct Unsupported: Error {}

    /// Lets the held writes go on, and waits until the hold has ended.
    let release: @Sendable () async throws -> Void
}

/// Makes stores for the contract suite. A new implementation adds itself to `all` and the whole
/// suite runs against it unchanged.
struct StoreFactory: Sendable, CustomStringConvertible {
    let description: String
    let make: @Sendable () async throws -> StoreUnderTest

    static let all: [StoreFactory] = [.sqlite, .postgres]

    static let sqlite = StoreFactory(description: "SQLite") {
        let directory = try TemporaryDirectory()
        let chain = AuditChain(key: AuditKey.random())
        let store = try SQLiteStore(path: directory.path("gateway.sqlite"), chain: chain)
        try await store.migrate()
        var subject = StoreUnderTest(store: store, chain: chain) {
            try SQLiteStore(path: directory.path("gateway.sqlite"), chain: $0)
        } cleanup: {
            directory.remove()
        }
        subject.holdWrites = { try await holdWriter(of: store) }
        subject.execute = { sql in _ = try await store.write { try $0.execute(sql: sql) } }
        return subject
    }

    /// Occupies the store's one writer connection (on GRDB's writer queue, not on a cooperative
    /// thread) until released.
    private static func holdWriter(of store: SQLiteStore) async throws -> HeldWrites {
        let gate = DispatchSemaphore(value: 0)
        let (entered, enteredSignal) = AsyncStream.makeStream(of: Void.self)
        let holder = Task {
            try await store.write { _ in
                enteredSignal.yield()
                gate.wait()
            }
        }
        for await _ in entered { break }
        return HeldWrites {
            gate.signal()
            try await holder.value
        }
    }

    /// A database of its own on the test PostgreSQL server (fails, saying how to get one, when
    /// RECOVERY_GATEWAY_TEST_POSTGRES_URL is not set).
    static let postgres = StoreFactory(description: "PostgreSQL") {
        try await PostgresTestDatabase.makeStore(chain: AuditChain(key: AuditKey.random()))
    }
}

/// A directory of its own per test, removed by `remove()`.
struct TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("store-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// What `count` concurrent calls of `body` (given their index) answered, in the order they ended.
func concurrently<Value: Sendable>(
    _ count: Int,
    _ body: @escaping @Sendable (Int) async throws -> Value
) async throws -> [Value] {
    try await withThrowingTaskGroup(of: Value.self) { group in
        for index in 0..<count { group.addTask { try await body(index) } }
        return try await group.reduce(into: []) { $0.append($1) }
    }
}
