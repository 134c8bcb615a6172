import Testing

@testable import recovery_gateway

@Suite("When the daemon trims its heaps")
struct QuietTrimPolicyTests {
    /// What a policy checked once a second (quiet: under 10 ms of CPU time in that second) decides
    /// at each of `readings`, the process's CPU time so far in milliseconds.
    static func decisions(_ readings: [Int64]) -> [Bool] {
        var policy = QuietTrimPolicy(interval: .seconds(1), cpu: .zero)
        return readings.map { policy.shouldTrim(cpu: .milliseconds($0)) }
    }

    @Test func onceAfterStartUpWhenTheFirstSecondIsQuietThenNotAgainWhileQuiet() {
        #expect(Self.decisions([5, 10, 15]) == [true, false, false])
    }

    @Test func neverWhileBusyAndOnceInTheFirstQuietSecondAfterIt() {
        // 410 after 400 is exactly a hundredth of the second: still busy.
        #expect(Self.decisions([400, 410, 419, 420, 900, 901]) == [false, false, true, false, false, true])
    }
}
