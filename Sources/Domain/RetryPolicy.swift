import Foundation
import Store

/// When to try a failed delivery again, and when to give up.
///
/// Backoff doubles per attempt from `initialBackoff` up to `maxBackoff`, with "equal jitter" (half
/// the delay fixed, half random) so that deliveries failed together do not retry together. A
/// server's `Retry-After` is a floor. A delivery is never scheduled so late that its link would
/// have less than `LinkLifetime.minimumAtSend` left (the sender would refuse it): it fails as
/// `expired` instead. Configuration failures are retried
/// without using up attempts, until the operator fixes the cause or the deadline passes.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// A number in 0..<1; injectable so tests can pin the jitter.
    public var random: @Sendable () -> Double

    public init(
        maxAttempts: Int,
        initialBackoff: Duration,
        maxBackoff: Duration,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.random = random
    }

    /// What to do after an attempt failed.
    public enum Decision: Sendable, Equatable {
        /// Try again at `at`; `countsAsAttempt` is false for configuration failures.
        case retry(at: Date, countsAsAttempt: Bool)
        /// Give up with this failure.
        case fail(DeliveryFailure)
    }

    /// The decision after attempt number `attempts` (1-based, counting this one) failed with `error`.
    public func decide(_ error: DeliveryError, attempts: Int, now: Date, deadline: Date) -> Decision {
        if error.errorClass == .permanent { return .fail(error.failure ?? .rejected) }
        let counts = error.errorClass == .transient
        if counts && attempts >= maxAttempts { return .fail(.attemptsExhausted) }
        var delay = backoff(afterAttempt: attempts)
        if let retryAfter = error.retryAfter, retryAfter > delay { delay = retryAfter }
        let at = now.addingTimeInterval(delay / .seconds(1))
        guard at.addingTimeInterval(LinkLifetime.minimumAtSend / .seconds(1)) <= deadline else {
            return .fail(.expired)
        }
        return .retry(at: at, countsAsAttempt: counts)
    }

    /// The delay after attempt number `attempt`: initial × 2^(attempt−1), capped, with equal jitter.
    public func backoff(afterAttempt attempt: Int) -> Duration {
        let doublings = max(0, min(attempt - 1, 40))
        let full = min(initialBackoff * (1 << doublings), maxBackoff)
        return full / 2 + full / 2 * min(max(random(), 0), 1)
    }
}
