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
            results.allSatisfy { $0.accepted != nil || $0.replayed == Replayed(id: id) }
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
        try await onceConnected { try await store.migrate() }
        // Connections open before the burst, so that the other work does not wait for new ones.
        try await onceConnected {
            async let first: Void = store.ping()
            async let second: Void = store.ping()
            async let third: Void = store.ping()
            _ = try await (first, second, third)
        }
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
        #expect(results.filter { $0.replayed == Replayed(id: id) }.count == 49)
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
        // A read-only store seals nothing: the event waits unsequenced until a writer reads the log.
        #expect(try await reader.verifyAudit(chain: chain).eventCount == 0)
        #expect(try await reader.unsequencedAuditEvents(limit: 10).count == 1)
        #expect(try await store.auditHead() == 1)

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
    /// append at once. Requests share no head to check, so both write; but the first sequencer round
    /// decides the chain's key, and no event of the other key is ever sealed into it: they wait
    /// unsequenced, and the online verify names them.
    @Test func replicasWithDifferentKeysAppendingOnAnEmptyLogNeverMixTheirKeys() async throws {
        let (url, name) = try await PostgresTestDatabase.create()
        let chains = [AuditChain(key: AuditKey.random()), AuditChain(key: AuditKey.random())]
        let stores = try chains.map { try PostgresStore(url: url, chain: $0) }
        try await stores[0].migrate()
        let writers = 4
        let perWriter = 5
        _ = try await concurrently(2 * writers) { index in
            for _ in 0..<perWriter {
                _ = try await stores[index % 2].appendAudit(Fixtures.draft(.emailRefused, actor: "r\(index % 2)"))
            }
        }
        // Both replicas' sequencers take their rounds at once.
        _ = try await concurrently(2) { index in try await stores[index].auditHead() }
        let events = try await stores[0].auditEvents(afterSeq: 0, limit: 100)
        let winner = chains.firstIndex { $0.keyID == events.first?.keyID } ?? -1
        #expect(winner >= 0)
        #expect(events.count == writers * perWriter && Set(events.map(\.keyID)) == [chains[winner].keyID])
        #expect(Set(events.map(\.actor)) == ["r\(winner)"])
        #expect(
            try await stores[1].verifyAudit(chain: chains[winner]) == .ok(events: events.count, head: events.last!.hash)
        )
        let waiting = try await stores[winner].unsequencedAuditEvents(limit: 100)
        #expect(waiting.count == writers * perWriter)
        #expect(
            waiting.allSatisfy { chains[winner].unlinkedProblem($0.event) == .unknownKey(chains[1 - winner].keyID) }
        )
        for store in stores { await store.close() }
        await PostgresTestDatabase.drop(name)
    }

    /// An unsequenced event rewritten in the intake (the triggers let no UPDATE through; an intruder
    /// deletes and re-inserts) is never sealed: the sequencer leaves it, reports it, and seals the rest.
    @Test func aRewrittenUnsequencedEventIsNeverSealed() async throws {
        let replicas = try await replicas(1)
        let store = replicas.stores[0]
        for index in 0..<3 { _ = try await store.appendAudit(Fixtures.draft(.emailRefused, actor: "a\(index)")) }
        let url = try PostgresTestDatabase.url(forDatabase: replicas.name)
        let raw = PostgresClient(configuration: try PostgresTestDatabase.configuration(url))
        let runner = Task { await raw.run() }
        await #expect(throws: PSQLError.self) { try await raw.query("UPDATE audit_intake SET actor = 'mallory'") }
        try await raw.query(
            """
            WITH gone AS (DELETE FROM audit_intake WHERE actor = 'a1' RETURNING *)
            INSERT INTO audit_intake SELECT n, seq, id, at_us, 'mallory', source_ip, request_id, action, delivery_id,
                identity_id, recipient_hash, recipient_masked, outcome, details, prev_hash, hash, key_id FROM gone
            """
        )
        runner.cancel()
        let events = try await store.auditEvents(afterSeq: 0, limit: 10)
        #expect(events.map(\.actor) == ["a0", "a2"])
        #expect(try await store.verifyAudit(chain: replicas.chain).isOK)
        let rejected = store.rejectedAuditEvents
        #expect(rejected.map(\.event.actor) == ["mallory"])
        #expect(rejected.first.flatMap { replicas.chain.unlinkedProblem($0.event) } == .hashMismatch)
        #expect(try await store.unsequencedAuditEvents(limit: 10).count == 1, "left as evidence")
        await replicas.close()
    }

    /// A rolling key rotation: a replica restarted with the new key (the old one kept as previous)
    /// rotates the chain; from then on only its sequencer seals, the old replica's rounds skip, and
    /// the old replica's events (under the old key) are sealed by the new one. Nothing is refused,
    /// nothing is lost, the chain verifies with the new replica's keys.
    @Test func aRollingKeyRotationLosesNoEventAndMixesNoKeys() async throws {
        let (url, name) = try await PostgresTestDatabase.create()
        let old = AuditKey.random()
        let new = AuditKey.random()
        let oldChain = AuditChain(key: old)
        let newChain = AuditChain(keys: AuditKeyRing(current: new, previous: [old]))
        let before = try PostgresStore(url: url, chain: oldChain)
        try await before.migrate()
        _ = try await before.appendAudit(Fixtures.draft(.emailRefused, actor: "old"))
        #expect(try await before.auditHead() == 1)

        let after = try PostgresStore(url: url, chain: newChain)
        let rotation = try await after.appendAudit(AuditKeyRotation.draft(from: old.id, at: Fixtures.t0))
        #expect(rotation.seq == 2 && rotation.keyID == new.id, "the rotation is linked at once")
        _ = try await concurrently(6) { index in
            try await [before, after][index % 2].appendAudit(Fixtures.draft(.emailRefused, actor: "w\(index % 2)"))
        }
        let skipped = try await before.sequenceAudit(wait: true, limit: 100)
        #expect(skipped.sealed == 0 && skipped.headOnOtherKey == new.id)
        #expect(try await after.auditHead() == 8)
        let events = try await after.auditEvents(afterSeq: 0, limit: 100)
        #expect(events.dropFirst(2).allSatisfy { $0.keyID == new.id })
        #expect(events.filter { $0.actor == "w0" }.count == 3, "the old replica's events are in the chain")
        #expect(try await after.verifyAudit(chain: newChain) == .ok(events: 8, head: events.last!.hash))
        await before.close()
        await after.close()
        await PostgresTestDatabase.drop(name)
    }

    @Test func auditRowsCannotBeUpdatedDeletedOrTruncated() async throws {
        let replicas = try await replicas(1)
        let store = replicas.stores[0]
        _ = try await store.appendAudit(Fixtures.draft(.emailRefused))
        #expect(try await store.auditHead() == 1, "sequenced into audit_events")
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
            try await onceConnected { try await store.migrate() }
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
            // One connection is back; the accept may need another, which may still be on its way.
            #expect(
                try await onceConnected { try await store.accept(Fixtures.newDelivery(chain: chain)) }.accepted != nil
            )
            #expect(try await store.verifyAudit(chain: chain).eventCount == 2)
        } catch {
            Issue.record("\(error)")
        }
        await store.close()
        await cluster.remove()
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
