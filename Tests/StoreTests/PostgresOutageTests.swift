import Audit
import Foundation
import PostgresNIO
import Store
import Synchronization
import Testing

@testable import PostgresStore

/// A store call is answered in bounded time however the database goes away: while the server is
/// down, while it restarts under a burst of calls, and when a connection closes between two
/// statements of one call (a statement postgres-nio 1.33 would never answer; see `PooledCall`).
///
/// Each call under test is held to its bound by an expectation of its own. The time limit only turns
/// a call never answered into a failure: it also covers making a database or a cluster, which with
/// the whole suite running on a busy 2-core machine took 53 s and once more than 60 s (2.2 s alone),
/// so it is not the bound of anything tested.
@Suite(.timeLimit(.minutes(4))) struct PostgresOutageTests {
    @Test func aStatementOnAConnectionThatClosedIsAnsweredUnavailable() async throws {
        let (url, name) = try await PostgresTestDatabase.create()
        // One connection: the call left hanging must not keep the pool's only place.
        let store = try PostgresStore(
            url: url,
            chain: AuditChain(key: AuditKey.random()),
            connectionWait: .seconds(2),
            maxConnections: 1
        )
        let logger = store.logger
        // The pool's one connection, made before the clock starts: making it is not what is timed.
        try await onceConnected { try await store.withConnection { _ in } }
        let started = ContinuousClock.now
        await #expect {
            try await store.withConnection { connection in
                try await connection.close()
                // Sent to the closed channel: postgres-nio never completes it.
                _ = try await connection.query("SELECT 1", logger: logger)
            }
        } throws: { error in
            guard case StoreError.unavailable(let message) = error else { return false }
            return message.contains("closed")
        }
        // The first look comes after the connection wait, then one a second.
        #expect(ContinuousClock.now - started < .seconds(5))
        await #expect(throws: Never.self, "the pool serves other calls afterwards") {
            try await onceConnected { try await store.migrate() }
        }
        await store.close()
        // Dropped in the background, as the contract suite drops its databases: it is not tested.
        Task.detached { await PostgresTestDatabase.drop(name) }
    }

    @Test func everyCallDuringARestartIsAnsweredInTime() async throws {
        let cluster = try await PostgresCluster.start()
        let chain = AuditChain(key: AuditKey.random())
        let wait = Duration.seconds(2)
        let store = try PostgresStore(url: cluster.url, chain: chain, connectTimeout: .seconds(1), connectionWait: wait)
        // The first connections to a cluster just started, made before anything is timed: on a loaded
        // machine they can take longer than the wait, which is what the calls below are held to.
        try await onceConnected { try await store.migrate() }
        let phase = Phase()
        let calls = try await withThrowingTaskGroup(of: [Call].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var calls: [Call] = []
                    while phase.now < 3 {
                        let during = phase.now
                        let started = ContinuousClock.now
                        let accepted = (try? await store.accept(Fixtures.newDelivery(chain: chain))) != nil
                        calls.append(Call(phase: during, duration: ContinuousClock.now - started, accepted: accepted))
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    return calls
                }
            }
            try await Task.sleep(for: .seconds(1))
            phase.now = 1
            try await cluster.stop()
            try await Task.sleep(for: .seconds(4))
            try await cluster.startAgain()
            // The pool reconnects after its back-off: once one call succeeds, every later one must.
            let deadline = ContinuousClock.now + .seconds(30)
            while (try? await store.accept(Fixtures.newDelivery(chain: chain))) == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            phase.now = 2
            try await Task.sleep(for: .seconds(2))
            phase.now = 3
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let slowest = calls.map(\.duration).max() ?? .zero
        print("restart: \(calls.count) calls, slowest \(slowest), failed \(calls.filter { !$0.accepted }.count)")
        // At most the wait, or a second after the connection closed; 3 s of slack for a busy machine.
        #expect(slowest < wait + .seconds(3))
        #expect(calls.contains { $0.phase == 1 && !$0.accepted }, "the outage was seen")
        #expect(!calls.contains { $0.phase == 2 && !$0.accepted }, "every call after the restart succeeds")
        #expect(calls.contains { $0.phase == 2 })
        await store.close()
        await cluster.remove()
    }

    /// Where the test stands: 0 before the stop, 1 while the server is down or restarting, 2 after
    /// it, 3 done.
    final class Phase: Sendable {
        private let value = Atomic(0)
        var now: Int {
            get { value.load(ordering: .relaxed) }
            set { value.store(newValue, ordering: .relaxed) }
        }
    }

    struct Call {
        let phase: Int
        let duration: Duration
        let accepted: Bool
    }
}
