import Foundation
import Testing

@testable import Gateway

/// The token bucket per API key (`delivery.rate_per_key`, `burst_per_key`), on a clock the test sets.
@Suite("Rate limiter")
struct RateLimiterTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aFreshKeyMayBurstThenWaitsForTheNextToken() {
        let limiter = RateLimiter(rate: 2, burst: 3)
        for _ in 0..<3 { #expect(limiter.take("k", now: start) == nil) }
        // The bucket is empty: the next token comes after 1/rate seconds.
        #expect(limiter.take("k", now: start) == .seconds(0.5))
    }

    @Test func tokensComeBackAtTheRateUpToTheBurst() {
        let limiter = RateLimiter(rate: 2, burst: 3)
        for _ in 0..<3 { _ = limiter.take("k", now: start) }
        #expect(limiter.take("k", now: start.addingTimeInterval(0.5)) == nil)
        #expect(limiter.take("k", now: start.addingTimeInterval(0.5)) != nil)
        // An hour idle refills the bucket to the burst, not beyond.
        let later = start.addingTimeInterval(3600)
        for _ in 0..<3 { #expect(limiter.take("k", now: later) == nil) }
        #expect(limiter.take("k", now: later) == .seconds(0.5))
    }

    @Test func theWaitIsWhatIsMissingOfOneToken() {
        let limiter = RateLimiter(rate: 1, burst: 1)
        #expect(limiter.take("k", now: start) == nil)
        let wait = limiter.take("k", now: start.addingTimeInterval(0.25))
        #expect(wait == .seconds(0.75))
    }

    @Test func eachKeyHasItsOwnBucket() {
        let limiter = RateLimiter(rate: 1, burst: 1)
        #expect(limiter.take("a", now: start) == nil)
        #expect(limiter.take("a", now: start) != nil)
        #expect(limiter.take("b", now: start) == nil)
    }

    @Test func aBurstBelowOneStillLetsOneRequestThrough() {
        let limiter = RateLimiter(rate: 1, burst: 0)
        #expect(limiter.take("k", now: start) == nil)
        #expect(limiter.take("k", now: start) != nil)
    }

    @Test func aClockGoingBackwardsAddsNoTokens() {
        let limiter = RateLimiter(rate: 1, burst: 1)
        #expect(limiter.take("k", now: start) == nil)
        #expect(limiter.take("k", now: start.addingTimeInterval(-10)) != nil)
    }
}
