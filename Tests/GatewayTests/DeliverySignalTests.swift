import Foundation
import Testing

@testable import Gateway

@Suite("Delivery signal")
struct DeliverySignalTests {
    @Test func waitsForItsTimeoutAgainAndAgain() async {
        // Each wait without a nudge lasts its timeout: the worker must not spin.
        let signal = DeliverySignal()
        let started = ContinuousClock.now
        for _ in 0..<5 { await signal.wait(timeout: .milliseconds(40)) }
        #expect(ContinuousClock.now - started >= .milliseconds(200))
    }

    @Test func aNudgeEndsTheWaitAtOnce() async throws {
        let signal = DeliverySignal()
        let started = ContinuousClock.now
        Task {
            try await Task.sleep(for: .milliseconds(50))
            signal.nudge()
        }
        await signal.wait(timeout: .seconds(10))
        #expect(ContinuousClock.now - started < .seconds(5))
        // A nudge with nobody waiting is kept for the next wait, once.
        signal.nudge()
        signal.nudge()
        let again = ContinuousClock.now
        await signal.wait(timeout: .seconds(10))
        #expect(ContinuousClock.now - again < .seconds(1))
        await signal.wait(timeout: .milliseconds(50))
        #expect(ContinuousClock.now - again >= .milliseconds(50))
    }
}
