import Audit
import Foundation
import Logging
import PostgresNIO
import Store
import TestSupport
import Testing

@testable import PostgresStore

/// What only the PostgreSQL store must show: several replicas (separate stores, so separate
/// connection pools) on one database agree, migrations from many replicas at once are safe,
/// and a lost server maps to `unavailable` and is reconnected to by itself.
@Suite struct PostgresStoreTests {
    /// `count` stores on one fresh database, as `count` replicas; the first has migrated it.
    struct Replicas {
        let stores: [PostgresStore]
        let chain: AuditChain
        let name: String

        func close() async {
            for store in stores { await store.close() }
            await PostgresTestDatabase.drop(name)
        }
    }

    func replicas(_ count: Int, migrate: Bool = true) async throws -> Replicas {
        let (url, name) = try await PostgresTestDatabase.create()
        let chain = AuditChain(key: AuditKey.random())
        let stores = try (0..<count).map { _ in try PostgresStore(url: url, chain: chain) }
        if migrate { try await stores[0].migrate() }
        return Replicas(stores: stores, chain: chain, name: name)
    }

    @Test func manyReplicasMigratingAtOnceLeaveOneSchema() async throws {
        let replicas = try await replicas(6, migrate: false)
        await #expect(throws: StoreError.schemaNotMigrated(missing: PostgresSchema.names)) {
            try await replicas.stores[0].ping()
        }
        try await withThrowingTaskGroup { group in
            for store in replicas.stores { group.addTask { try await store.migrate() } }
            try await group.waitForAll()
        }
        for store in replicas.stores { try await store.ping() }
        let accepted = try await replicas.stores[3].accept(Fixtures.newDelivery(chain: replicas.chain))
        #expect(accepted.accepted != nil)
        #expect(try await replicas.stores[5].verifyAudit(chain: replicas.chain).isOK)
        await replicas.close()
    }

    @Test func theSameKeyFromManyReplicasAtOnceMakesOneDelivery() async throws {
        let replicas = try await replicas(4)
        let chain = replicas.chain
        let results = try await withThrowingTaskGroup(of: AcceptResult.self) { group in
            for index in 0..<40 {
                let store = replicas.stores[index % replicas.stores.count]
                group.addTask {
                    var new = Fixtures.newDelivery(chain: chain, key: "one-key")
                    new.delivery.id = UUID()
                    return try await store.accept(new)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let accepted = results.compactMap(\.accepted)
        #expect(accepted.count == 1)
        let id = try #require(accepted.first?.id)
        #expect(
            results.allSatisfy { $0.accepted != nil || $0 == .replay(status: 202, body: $0.replayBody, deliveryID: id) }
        )
        let page = try await replicas.stores[0].deliveries(DeliveryQuery(limit: 200))
        #expect(page.items.map(\.id) == [id])
        #expect(try await replicas.stores[1].verifyAudit(chain: chain).eventCount == 1)
        await replicas.close()
    }

    /// The full test run's failure, made certain: a burst of 50 accepts with one key while the
    /// first one's transaction is slow (here: another session holds the audit chain's head, which
    /// it needs to commit) for longer than a call may wait for a pooled connection. The burst is
    /// answered — accepted once, replayed for the rest — and other work on the same pool (reads,
    /// leases) is answered meanwhile: the burst holds one connection, not the whole pool.
    @Test func aOneKeyBurstBehindASlowTransactionLeavesThePoolToOthers() async throws {
        let (url, name) = try await PostgresTestDatabase.create()
        let chain = AuditChain(key: AuditKey.random())
        // The default connection wait, as the gateway runs: the setup shares the test run's load.
        let wait = Duration.seconds(5)
        let store = try PostgresStore(url: url, chain: chain, connectionWait: wait)
        try await store.migrate()
        // Connections open before the burst, so that the other work does not wait for new ones.
        async let first: Void = store.ping()
        async let second: Void = store.ping()
        async let third: Void = store.ping()
        _ = try await (first, second, third)
        let blocker = PostgresClient(configuration: try PostgresTestDatabase.configuration(url))
        let runner = Task { await blocker.run() }

        let logger = Logger(label: "blocker")
        let (burst, others) = try await blocker.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            try await connection.query("SELECT seq FROM audit_head FOR UPDATE", logger: logger)
            let burst = Task {
                try await concurrently(50) { _ in
                    await outcome {
                        try await store.accept(Fixtures.newDelivery(chain: chain, key: "same", cooldown: 60))
                    }
                }
            }
            // Other work on the pool, for longer than a call may wait for a connection.
            var others: [Result<Int, any Error>] = []
            let until = ContinuousClock.now + wait + .seconds(1)
            while ContinuousClock.now < until {
                async let read = outcome { try await store.deliveries(DeliveryQuery()).items.count }
                async let lease = outcome { try await store.leaseDue(now: Fixtures.t0, limit: 5, leaseFor: 60).count }
                others += [await read, await lease]
                try await Task.sleep(for: .milliseconds(100))
            }
            try await connection.query("ROLLBACK", logger: logger)
            return (try await burst.value, others)
        }
        runner.cancel()

        #expect(others.allSatisfy { (try? $0.get()) != nil }, "\(others.filter { (try? $0.get()) == nil })")
        let results: [AcceptResult] = burst.compactMap { try? $0.get() }
        #expect(results.count == 50, "\(burst.filter { (try? $0.get()) == nil }.prefix(3))")
        let accepted = results.compactMap(\.accepted)
        #expect(accepted.count == 1)
        let id = try #require(accepted.first?.id)
        #expect(results.filter { $0 == .replay(status: 202, body: $0.replayBody, deliveryID: id) }.count == 49)
        #expect(try await store.verifyAudit(chain: chain).eventCount == 1)
        await store.close()
        await PostgresTestDatabase.drop(name)
    }

    @Test func readOnlyNeverMigratesOrWritesAndNamesBothVersions() async throws {
        let (url, name) = try await PostgresTestDatabase.create()
        let chain = AuditChain(key: AuditKey.random())
        // A database no version has migrated yet stays without even the migrations table.
        await #expect(throws: StoreError.schemaOlder(database: "none", binary: try #require(PostgresSchema.names.last)))
        {
            try await PostgresStore.openReadOnly(url: url, chain: chain)
        }
        let store = try PostgresStore(url: url, chain: chain)
        await #expect(throws: StoreError.schemaNotMigrated(missing: PostgresSchema.names)) { try await store.ping() }
        try await store.migrate()
        _ = try await store.appendAudit(Fixtures.draft(.emailRefused))

        let reader = try await PostgresStore.openReadOnly(url: url, chain: chain)
        #expect(try await reader.verifyAudit(chain: chain).eventCount == 1)
        await #expect {
            try await reader.appendAudit(Fixtures.draft(.emailRefused))
        } throws: { error in
            // 25006: read_only_sql_transaction.
            if case StoreError.database(let message) = error { message.hasPrefix("25006") } else { false }
        }
        await reader.close()
        #expect(try await store.auditHead() == 1)
        await store.close()
        await PostgresTestDatabase.drop(name)
    }

    @Test func cooldownHoldsAcrossReplicas() async throws {
        let replicas = try await replicas(4)
        let chain = replicas.chain
        let identity = UUID()
        let results = try await withThrowingTaskGroup(of: AcceptResult.self) { group in
            for index in 0..<20 {
                let store = replicas.stores[index % replicas.stores.count]
                group.addTask {
                    // Another key each time, the same person (recipient in another case too).
                    let recipient = index.isMultiple(of: 2) ? "john.doe@example.com" : "John.Doe@Example.com"
                    return try await store.accept(
                        Fixtures.newDelivery(chain: chain, identityID: identity, recipient: recipient, cooldown: 60)
                    )
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.compactMap(\.accepted).count == 1)
        #expect(results.filter { if case .cooldown = $0 { true } else { false } }.count == 19)
        #expect(try await replicas.stores[2].verifyAudit(chain: chain).eventCount == 1)
        await replicas.close()
    }

    @Test func twoReplicasLeasingAtOnceNeverGetTheSameRow() async throws {
        let replicas = try await replicas(2)
        let chain = replicas.chain
        for _ in 0..<120 {
            _ = try await replicas.stores[0].accept(Fixtures.newDelivery(chain: chain))
        }
        let leased = try await withThrowingTaskGroup(of: [UUID].self) { group in
            for worker in 0..<8 {
                let store = replicas.stores[worker % 2]
                group.addTask {
                    var mine: [UUID] = []
                    while true {
                        let batch = try await store.leaseDue(now: Fixtures.t0 + 1, limit: 5, leaseFor: 60)
                        if batch.isEmpty { return mine }
                        mine += batch.map(\.id)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append(contentsOf: $1) }
        }
        #expect(leased.count == 120)
        #expect(Set(leased).count == 120)
        await replicas.close()
    }

    @Test func manyReplicasAppendingAtOnceKeepOneGaplessChain() async throws {
        let replicas = try await replicas(4)
        let chain = replicas.chain
        let perReplica = 40
        try await withThrowingTaskGroup { group in
            for (index, store) in replicas.stores.enumerated() {
                for writer in 0..<4 {
                    group.addTask {
                        for step in 0..<(perReplica / 4) {
                            if step.isMultiple(of: 2) {
                                _ = try await store.appendAudit(
                                    Fixtures.draft(.emailRefused, actor: "r\(index)w\(writer)")
                                )
                            } else {
                                _ = try await store.accept(Fixtures.newDelivery(chain: chain))
                            }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let total = perReplica * replicas.stores.count
        let events = try await replicas.stores[0].auditEvents(afterSeq: 0, limit: 10_000)
        #expect(events.map(\.seq) == Array(1...Int64(total)))
        #expect(Set(events.map(\.prevHash)).count == total)
        #expect(try await replicas.stores[3].verifyAudit(chain: chain) == .ok(events: total, head: events.last!.hash))
        await replicas.close()
    }

    /// The race no start-up check sees: two replicas with different keys start on an empty log and
    /// append at once. The first append decides the key; every append of the other is refused.
    @Test func replicasWithDifferentKeysAppendingOnAnEmptyLogNeverMixTheirKeys() async throws {
        let (url, name) = try await PostgresTestDatabase.create()
        let chains = [AuditChain(key: AuditKey.random()), AuditChain(key: AuditKey.random())]
        let stores = try chains.map { try PostgresStore(url: url, chain: $0) }
        try await stores[0].migrate()
        let writers = 4
        let perWriter = 5
        // (replica, appended, refused) per writer.
        let outcomes = try await concurrently(2 * writers) { index in
            let replica = index % 2
            var (appended, refused) = (0, 0)
            for _ in 0..<perWriter {
                do {
                    _ = try await stores[replica].appendAudit(Fixtures.draft(.emailRefused, actor: "r\(replica)"))
                    appended += 1
                } catch StoreError.auditKeyMismatch(_, let keyID, let current) {
                    #expect(keyID == chains[1 - replica].keyID && current == chains[replica].keyID)
                    refused += 1
                }
            }
            return (replica, appended, refused)
        }
        let appended = [0, 1].map { replica in outcomes.filter { $0.0 == replica }.map(\.1).reduce(0, +) }
        let winner = appended[0] > 0 ? 0 : 1
        #expect(appended[winner] == writers * perWriter && appended[1 - winner] == 0, "\(outcomes)")
        let events = try await stores[0].auditEvents(afterSeq: 0, limit: 100)
        #expect(Set(events.map(\.keyID)) == [chains[winner].keyID])
        #expect(
            try await stores[1].verifyAudit(chain: chains[winner]) == .ok(events: events.count, head: events.last!.hash)
        )
        for store in stores { await store.close() }
        await PostgresTestDatabase.drop(name)
    }

    @Test func auditRowsCannotBeUpdatedDeletedOrTruncated() async throws {
        let replicas = try await replicas(1)
        let store = replicas.stores[0]
        _ = try await store.appendAudit(Fixtures.draft(.emailRefused))
        let url = try PostgresTestDatabase.url(forDatabase: replicas.name)
        let raw = PostgresClient(configuration: try PostgresTestDatabase.configuration(url))
        let runner = Task { await raw.run() }
        for sql in ["UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events", "TRUNCATE audit_events"] {
            await #expect {
                try await raw.query(PostgresQuery(unsafeSQL: sql))
            } throws: { error in
                (error as? PSQLError)?.serverInfo?[.message] == "audit_events is append-only"
            }
        }
        runner.cancel()
        #expect(
            try await store.verifyAudit(chain: replicas.chain)
                == .ok(
                    events: 1,
                    head: try #require(
                        try await store.auditEvents(afterSeq: 0, limit: 1).first?.hash
                    )
                )
        )
        await replicas.close()
    }

    @Test func anUnreachableServerIsUnavailableQuickly() async throws {
        // A port nobody listens on: bind one, note it, close it.
        let port = try freeLoopbackPort()
        let store = try PostgresStore(
            url: "postgres://gateway:s3cret-pw@127.0.0.1:\(port)/gateway",
            chain: AuditChain(key: AuditKey.random()),
            connectTimeout: .seconds(1)
        )
        let started = ContinuousClock.now
        do {
            try await store.ping()
            Issue.record("ping answered on a closed port")
        } catch {
            guard case .unavailable(let message) = error else {
                Issue.record("expected unavailable, got \(error)")
                await store.close()
                return
            }
            #expect(!message.contains("s3cret"))
            #expect(!"\(error)".contains("s3cret"))
        }
        #expect(ContinuousClock.now - started < .seconds(15))
        await store.close()
    }

    @Test func badURLsAreRefusedWithoutThePassword() throws {
        for url in ["postgres://u:s3cret@/db", "postgres://u:s3cret@host", "postgres://u:s3cret@host/db?sslmode=maybe"]
        {
            #expect {
                try PostgresStore(url: url, chain: AuditChain(key: AuditKey.random()))
            } throws: { error in
                guard case StoreError.invalidQuery(let parameter, let reason) = error else { return false }
                return parameter == "store.url" && !reason.contains("s3cret")
            }
        }
    }

    @Test func aRestartedServerIsReconnectedToByItself() async throws {
        let cluster = try await PostgresCluster.start()
        let chain = AuditChain(key: AuditKey.random())
        let store = try PostgresStore(
            url: cluster.url,
            chain: chain,
            connectTimeout: .seconds(1),
            connectionWait: .seconds(2)
        )
        do {
            try await store.migrate()
            #expect(try await store.accept(Fixtures.newDelivery(chain: chain)).accepted != nil)

            try await cluster.stop()
            let started = ContinuousClock.now
            await #expect {
                _ = try await store.accept(Fixtures.newDelivery(chain: chain))
            } throws: { error in
                if case StoreError.unavailable = error { true } else { false }
            }
            #expect(ContinuousClock.now - started < .seconds(15))

            try await cluster.startAgain()
            // The pool reconnects by itself: within a few seconds requests succeed again.
            let deadline = ContinuousClock.now + .seconds(30)
            var answered = false
            while ContinuousClock.now < deadline {
                if (try? await store.ping()) != nil {
                    answered = true
                    break
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(answered)
            #expect(try await store.accept(Fixtures.newDelivery(chain: chain)).accepted != nil)
            #expect(try await store.verifyAudit(chain: chain).eventCount == 2)
        } catch {
            Issue.record("\(error)")
        }
        await store.close()
        await cluster.remove()
    }
}

extension AcceptResult {
    /// The body of a replay (to compare replays whatever their body).
    var replayBody: Data {
        if case .replay(_, let body, _) = self { body } else { Data() }
    }
}

extension AuditVerification {
    /// How many events a verification that passed counted; -1 when it failed.
    var eventCount: Int {
        if case .ok(let events, _) = self { events } else { -1 }
    }
}

/// What a store call answered, value or error, for tests that look at many calls' outcomes.
func outcome<Value: Sendable>(_ call: () async throws -> Value) async -> Result<Value, any Error> {
    do {
        return .success(try await call())
    } catch {
        return .failure(error)
    }
}
