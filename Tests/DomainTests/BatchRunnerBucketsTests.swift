import Foundation
import Store
import Testing

@testable import Domain

/// The batch runner's token buckets: each batch earns its rate, starts with one tick, keeps at
/// most a second's worth, and is forgotten once it no longer runs.
@Suite("Batch runner pace")
struct BatchRunnerBucketsTests {
    static func batch(rate: Int) -> BatchRecord {
        BatchRecord(
            id: UUID(),
            apiKeyID: "backend",
            idempotencyKey: "k",
            requestHash: "h",
            anyRecipient: false,
            sourceIP: nil,
            requestID: nil,
            common: "{}",
            rate: rate,
            status: .running,
            createdAt: Date()
        )
    }

    @Test func aBatchEarnsItsRateFromOneTickAndKeepsAtMostASecond() {
        let start = ContinuousClock.now
        var buckets = BatchRunner.Buckets(last: start)
        let fast = Self.batch(rate: 200)
        let slow = Self.batch(rate: 1)
        // First seen: one tick's worth (100 ms), whatever the time since the runner last looked.
        buckets.refill([fast, slow], now: start + .seconds(30))
        #expect(buckets.tokens[fast.id] == 20)
        #expect(buckets.tokens[slow.id] == 0.1)
        // Half a second later: 100 more for the fast one.
        buckets.refill([fast, slow], now: start + .seconds(30) + .milliseconds(500))
        #expect(buckets.tokens[fast.id] == 120)
        // A long stall keeps a second's worth, no more (at least one item).
        buckets.refill([fast, slow], now: start + .seconds(40))
        #expect(buckets.tokens[fast.id] == 200)
        #expect(buckets.tokens[slow.id] == 1)
        // Paused or done: forgotten; when it runs again it starts over from one tick.
        buckets.refill([slow], now: start + .seconds(41))
        #expect(buckets.tokens[fast.id] == nil)
        buckets.refill([fast, slow], now: start + .seconds(42))
        #expect(buckets.tokens[fast.id] == 20)
    }
}
