import Foundation
import Synchronization

/// A token bucket per key (an API key's name, a recipient, a client address): `rate` requests a
/// second on average, bursts of up to `burst`. A bucket that has refilled is as good as none, so such
/// buckets are dropped whenever the table has doubled since the last sweep: memory stays bounded by
/// the keys seen within one refill, however many keys pass. At most `capacity` buckets are kept: a
/// new key past that sweeps at once, and if every bucket is still in use, starts the table afresh,
/// so keys chosen by the caller (addresses) cannot grow it without bound.
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
    private let capacity: Int
    private let table = Mutex(Table())

    public init(rate: Double, burst: Int, capacity: Int = .max) {
        self.rate = rate
        self.burst = Double(max(1, burst))
        self.capacity = max(1, capacity)
    }

    /// Takes a token for `key`; when there is none, how long until there is.
    public func take(_ key: String, now: Date = Date()) -> Duration? {
        table.withLock { table in
            if table.buckets[key] == nil, table.buckets.count >= capacity {
                sweep(&table, now: now)
                if table.buckets.count >= capacity { table.buckets.removeAll() }
            }
            var bucket = table.buckets[key] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = refilled(bucket, now: now)
            bucket.updated = now
            defer {
                table.buckets[key] = bucket
                if table.buckets.count >= table.sweepAt { sweep(&table, now: now) }
            }
            guard bucket.tokens >= 1 else { return .seconds((1 - bucket.tokens) / rate) }
            bucket.tokens -= 1
            return nil
        }
    }

    /// How many buckets are kept (for the tests of the sweep).
    var count: Int { table.withLock { $0.buckets.count } }

    /// Drops the buckets that have refilled, and sets the next sweep at twice what is left.
    private func sweep(_ table: inout Table, now: Date) {
        table.buckets = table.buckets.filter { refilled($0.value, now: now) < burst }
        table.sweepAt = max(1_024, table.buckets.count * 2)
    }

    private func refilled(_ bucket: Bucket, now: Date) -> Double {
        min(burst, bucket.tokens + max(0, now.timeIntervalSince(bucket.updated)) * rate)
    }
}
