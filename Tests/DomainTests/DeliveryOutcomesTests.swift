import Foundation
import Mail
import Store
import Testing

@testable import Domain

@Suite("Delivery outcomes")
struct DeliveryOutcomesTests {
    static func sent() throws -> Delivery {
        Delivery(
            id: UUID(),
            status: .sent,
            recipient: "foobar@ory.sh",
            content: .recovery(
                RecoveryOrder(identityID: UUID(), method: .link, template: "recovery", expiresIn: "1h")
            ),
            deadline: Date() + 3600,
            messageID: try MessageID("<outcome@example.com>"),
            actor: "backend",
            createdAt: Date()
        )
    }

    /// The waits here have a timeout far beyond the suite's time limit, so a wait that returns a
    /// delivery was ended by its outcome.
    @Test(.timeLimit(.minutes(1))) func everyWaiterOfADeliveryGetsItsOutcomeAndNoOtherWaiterDoes() async throws {
        let outcomes = DeliveryOutcomes()
        let delivery = try Self.sent()
        let waiters = (0..<3).map { _ in Task { await outcomes.next(of: delivery.id, within: .seconds(3600)) } }
        let other = Task { await outcomes.next(of: UUID(), within: .milliseconds(300)) }
        try await Task.sleep(for: .milliseconds(50))
        outcomes.recorded(delivery)
        for waiter in waiters { #expect(await waiter.value == delivery) }
        #expect(await other.value == nil)
    }

    @Test func aWaitWithoutAnOutcomeEndsAtItsTimeout() async throws {
        let outcomes = DeliveryOutcomes()
        let started = ContinuousClock.now
        #expect(await outcomes.next(of: UUID(), within: .milliseconds(100)) == nil)
        #expect(ContinuousClock.now - started >= .milliseconds(100))
        // An outcome with nobody waiting is not kept.
        let delivery = try Self.sent()
        outcomes.recorded(delivery)
        #expect(await outcomes.next(of: delivery.id, within: .milliseconds(50)) == nil)
    }
}
