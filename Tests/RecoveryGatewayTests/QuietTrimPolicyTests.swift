import Testing

@testable import recovery_gateway

@Suite("When the daemon trims its heaps")
struct QuietTrimPolicyTests {
    /// A policy checked once a second: quiet is under 10 ms of CPU time in that second.
    static func policy() -> QuietTrimPolicy { QuietTrimPolicy(interval: .seconds(1), cpu: .zero) }

    @Test func onceAfterStartUpWhenTheFirstSecondIsQuietThenNotAgainWhileQuiet() {
        var policy = Self.policy()
        #expect(policy.shouldTrim(cpu: .milliseconds(5)))
        #expect(!policy.shouldTrim(cpu: .milliseconds(10)))
        #expect(!policy.shouldTrim(cpu: .milliseconds(15)))
    }

    @Test func neverWhileBusyAndOnceInTheFirstQuietSecondAfterIt() {
        var policy = Self.policy()
        #expect(!policy.shouldTrim(cpu: .milliseconds(400)))
        #expect(!policy.shouldTrim(cpu: .milliseconds(410)))  // exactly a hundredth: still busy
        #expect(policy.shouldTrim(cpu: .milliseconds(419)))
        #expect(!policy.shouldTrim(cpu: .milliseconds(420)))
        #expect(!policy.shouldTrim(cpu: .milliseconds(900)))
        #expect(policy.shouldTrim(cpu: .milliseconds(901)))
    }
}
