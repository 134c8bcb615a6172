import Foundation
import Testing

@testable import Domain

@Suite("Delivery outcomes")
struct DeliveryOutcomesTests {
    /// The waits here have a timeout far beyond the suite's time limit, so a wait that returns true
    /// was ended by its outcome.
    @Test(.timeLimit(.minutes(1))) func everyWaiterOfADeliveryHearsOfItsOutcomeAndNoOtherWaiterDoes() async throws {
        let outcomes = DeliveryOutcomes()
        let delivery = UUID()
        let waiters = (0..<3).map { _ in Task { await outcomes.next(of: delivery, within: .seconds(3600)) } }
        let other = Task { await outcomes.next(of: UUID(), within: .milliseconds(300)) }
        try await Task.sleep(for: .milliseconds(50))
        outcomes.recorded(delivery)
        for waiter in waiters { #expect(await waiter.value) }
        #expect(await other.value == false)
    }

    @Test func aWaitWithoutAnOutcomeEndsAtItsTimeout() async throws {
        let outcomes = DeliveryOutcomes()
        let started = ContinuousClock.now
        #expect(await outcomes.next(of: UUID(), within: .milliseconds(100)) == false)
        #expect(ContinuousClock.now - started >= .milliseconds(100))
        // An outcome with nobody waiting is not kept.
        let delivery = UUID()
        outcomes.recorded(delivery)
        #expect(await outcomes.next(of: delivery, within: .milliseconds(50)) == false)
    }
}
