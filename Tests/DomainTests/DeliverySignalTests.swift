import Foundation
import Testing

@testable import Domain

@Suite("Delivery signal")
struct DeliverySignalTests {
    @Test func waitsForItsTimeoutAgainAndAgain() async {
        // Each wait without a nudge lasts its timeout: the worker must not spin.
        let signal = DeliverySignal()
        let started = ContinuousClock.now
        for _ in 0..<5 { await signal.wait(timeout: .milliseconds(40)) }
        #expect(ContinuousClock.now - started >= .milliseconds(200))
    }

    /// The waits here have a timeout far beyond the suite's time limit, so a wait that returns
    /// at all was ended by the nudge: no wall-clock bound that a busy machine could miss.
    @Test(.timeLimit(.minutes(1))) func aNudgeEndsTheWait() async throws {
        let signal = DeliverySignal()
        Task {
            try await Task.sleep(for: .milliseconds(50))
            signal.nudge()
        }
        await signal.wait(timeout: .seconds(3600))
        // A nudge with nobody waiting is kept for the next wait, once.
        signal.nudge()
        signal.nudge()
        await signal.wait(timeout: .seconds(3600))
        let again = ContinuousClock.now
        await signal.wait(timeout: .milliseconds(50))
        #expect(ContinuousClock.now - again >= .milliseconds(50))
    }
}
