import Foundation
import Synchronization

/// A token bucket per key (an API key's name, a recipient): `rate` requests a second on average,
/// bursts of up to `burst`. A bucket that has refilled is as good as none, so such buckets are
/// dropped whenever the table has doubled since the last sweep: memory stays bounded by the keys
/// seen within one refill, however many keys pass.
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    private struct Table {
        var buckets: [String: Bucket] = [:]
        /// The size at which the next sweep runs.
        var sweepAt = 1_024
    }

    private let rate: Double
    private let burst: Double
    private let table = Mutex(Table())

    public init(rate: Double, burst: Int) {
        self.rate = rate
        self.burst = Double(max(1, burst))
    }

    /// Takes a token for `key`; when there is none, how long until there is.
    public func take(_ key: String, now: Date = Date()) -> Duration? {
        table.withLock { table in
            var bucket = table.buckets[key] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = refilled(bucket, now: now)
            bucket.updated = now
            defer {
                table.buckets[key] = bucket
                if table.buckets.count >= table.sweepAt {
                    table.buckets = table.buckets.filter { refilled($0.value, now: now) < burst }
                    table.sweepAt = max(1_024, table.buckets.count * 2)
                }
            }
            guard bucket.tokens >= 1 else { return .seconds((1 - bucket.tokens) / rate) }
            bucket.tokens -= 1
            return nil
        }
    }

    /// How many buckets are kept (for the tests of the sweep).
    var count: Int { table.withLock { $0.buckets.count } }

    private func refilled(_ bucket: Bucket, now: Date) -> Double {
        min(burst, bucket.tokens + max(0, now.timeIntervalSince(bucket.updated)) * rate)
    }
}
