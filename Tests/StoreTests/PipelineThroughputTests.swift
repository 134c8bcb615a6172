import Audit
import Foundation
import Store
import Testing

/// The whole life of many deliveries through one store at once — accept, lease, finish `sent` —
/// by several concurrent clients, as the gateway's API and workers drive it. Prints the rate
/// (a figure for the notes, not a goal: the machine is shared).
@Suite struct PipelineThroughputTests {
    @Test(arguments: StoreFactory.all)
    func everyAcceptedDeliveryIsSentOnceUnderConcurrency(factory: StoreFactory) async throws {
        let subject = try await factory.make()
        defer { subject.cleanup() }
        let store = subject.store
        let chain = subject.chain
        let clients = 8
        let perClient = 40
        let started = ContinuousClock.now
        let sent = try await withThrowingTaskGroup(of: [UUID].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var mine: [UUID] = []
                    for _ in 0..<perClient {
                        _ = try #require(try await store.accept(Fixtures.newDelivery(chain: chain)).accepted)
                        for leased in try await store.leaseDue(now: Fixtures.t0 + 1, limit: 4, leaseFor: 60) {
                            try await store.finish(
                                id: leased.id,
                                attempt: leased.attempts,
                                outcome: .sent(reply: "250 ok", at: Fixtures.t0 + 2),
                                audit: [Fixtures.draft(.emailSent, at: Fixtures.t0 + 2)]
                            )
                            let done = try #require(try await store.delivery(id: leased.id))
                            #expect(done.status == .sent)
                            mine.append(done.id)
                        }
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0.append(contentsOf: $1) }
        }
        // What the clients left queued, drained at the end.
        var rest: [UUID] = []
        while true {
            let batch = try await store.leaseDue(now: Fixtures.t0 + 1, limit: 50, leaseFor: 60)
            if batch.isEmpty { break }
            for leased in batch {
                try await store.finish(
                    id: leased.id,
                    attempt: leased.attempts,
                    outcome: .sent(reply: "250 ok", at: Fixtures.t0 + 2),
                    audit: [Fixtures.draft(.emailSent, at: Fixtures.t0 + 2)]
                )
                rest.append(leased.id)
            }
        }
        let elapsed = ContinuousClock.now - started
        let total = clients * perClient
        #expect(sent.count + rest.count == total)
        #expect(Set(sent + rest).count == total)
        #expect(try await store.stats() == StoreStats(waiting: 0, sending: 0, oldestWaitingCreatedAt: nil))
        #expect(try await store.verifyAudit(chain: chain).isOK)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(
            "\(factory): \(total) deliveries accepted, leased and sent in \(elapsed) (\(Int(Double(total) / seconds))/s)"
        )
    }
}
