import Foundation
import Kratos
import Mail
import Store
import Testing

@testable import Domain

@Suite("Retry policy")
struct RetryPolicyTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    var deadline: Date { now.addingTimeInterval(3600) }

    func policy(random: Double = 0.5) -> RetryPolicy {
        RetryPolicy(maxAttempts: 4, initialBackoff: .seconds(2), maxBackoff: .seconds(60), random: { random })
    }

    let transient = DeliveryError(SMTPError(kind: .transient, stage: .rcptTo, code: 450, message: "450 busy"))

    @Test func backoffDoublesWithEqualJitterAndIsCapped() {
        let low = policy(random: 0)
        let high = policy(random: 0.999_999)
        #expect(low.backoff(afterAttempt: 1) == .seconds(1))
        #expect(low.backoff(afterAttempt: 2) == .seconds(2))
        #expect(low.backoff(afterAttempt: 3) == .seconds(4))
        #expect(high.backoff(afterAttempt: 3) > .milliseconds(7_999))
        #expect(high.backoff(afterAttempt: 3) <= .seconds(8))
        #expect(low.backoff(afterAttempt: 30) == .seconds(30))
        #expect(high.backoff(afterAttempt: 30) <= .seconds(60))
    }

    @Test func transientFailuresRetryUntilAttemptsRunOut() {
        #expect(
            policy().decide(transient, attempts: 1, now: now, deadline: deadline)
                == .retry(at: now + 1.5, countsAsAttempt: true)
        )
        #expect(policy().decide(transient, attempts: 4, now: now, deadline: deadline) == .fail(.attemptsExhausted))
    }

    @Test func permanentFailuresFailAtOnce() {
        let rejected = DeliveryError(
            SMTPError(kind: .permanent, stage: .rcptTo, code: 550, message: "550 no such user")
        )
        #expect(policy().decide(rejected, attempts: 1, now: now, deadline: deadline) == .fail(.rejected))
        let gone = DeliveryError(KratosError(kind: .identityNotFound, status: 404, reason: "could not find identity"))
        #expect(policy().decide(gone, attempts: 1, now: now, deadline: deadline) == .fail(.identityGone))
    }

    @Test func configurationFailuresDoNotUseUpAttempts() {
        let badPassword = DeliveryError(SMTPError(kind: .configuration, stage: .auth, code: 535, message: "535"))
        #expect(
            policy().decide(badPassword, attempts: 10, now: now, deadline: deadline)
                == .retry(at: now + 45, countsAsAttempt: false)
        )
        let badKey = DeliveryError(KratosError(kind: .unauthorized, status: 401, reason: "unauthorized"))
        #expect(badKey.errorClass == .configuration)
    }

    @Test func neverScheduledPastTheDeadline() {
        #expect(policy().decide(transient, attempts: 3, now: now, deadline: now + 2) == .fail(.expired))
        // Nor so late that the link would have less than the sender's minute left.
        #expect(policy().decide(transient, attempts: 1, now: now, deadline: now + 61) == .fail(.expired))
        #expect(
            policy().decide(transient, attempts: 1, now: now, deadline: now + 62)
                == .retry(at: now + 1.5, countsAsAttempt: true)
        )
    }

    @Test func retryAfterIsAFloor() {
        let limited = DeliveryError(
            KratosError(kind: .transient, status: 429, reason: "slow down", retryAfter: .seconds(30))
        )
        #expect(
            policy().decide(limited, attempts: 1, now: now, deadline: deadline)
                == .retry(at: now + 30, countsAsAttempt: true)
        )
    }
}
