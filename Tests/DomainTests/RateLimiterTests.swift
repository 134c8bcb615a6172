import Foundation
import Testing

@testable import Domain

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

/// The limiter of many keys (a courier's recipients): buckets that have refilled are dropped.
@Suite("Rate limiter sweep")
struct RateLimiterSweepTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func refilledBucketsAreDroppedSoMemoryStaysBounded() {
        let limiter = RateLimiter(rate: 1, burst: 2)
        for n in 0..<1_000 { _ = limiter.take("r\(n)", now: start) }
        // A second later each of them has refilled: the next growth sweeps them away.
        for n in 0..<5_000 { _ = limiter.take("s\(n)", now: start.addingTimeInterval(10 + Double(n) / 1_000)) }
        #expect(limiter.count < 3_000)
        // A bucket still short of tokens is kept: its limit holds across a sweep.
        let busy = RateLimiter(rate: 0.001, burst: 1)
        #expect(busy.take("target", now: start) == nil)
        for n in 0..<3_000 { _ = busy.take("other\(n)", now: start) }
        #expect(busy.take("target", now: start) != nil)
    }
}
