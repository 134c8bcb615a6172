import Foundation
import Synchronization

/// A token bucket per key (an API key, a client address): `rate` requests a second on average,
/// bursts of up to `burst`. At most `capacity` buckets are kept: past that, the buckets that have
/// filled up again (which hold nothing a new bucket would not) are dropped, so keys chosen by the
/// caller (addresses) cannot grow it without bound.
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    private let rate: Double
    private let burst: Double
    private let capacity: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(rate: Double, burst: Int, capacity: Int = .max) {
        self.rate = rate
        self.burst = Double(max(1, burst))
        self.capacity = max(1, capacity)
    }

    /// Takes a token for `key`; when there is none, how long until there is.
    public func take(_ key: String, now: Date = Date()) -> Duration? {
        buckets.withLock { buckets in
            if buckets[key] == nil, buckets.count >= capacity {
                let refill = burst / rate
                buckets = buckets.filter { now.timeIntervalSince($0.value.updated) < refill }
                if buckets.count >= capacity { buckets.removeAll() }
            }
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + max(0, now.timeIntervalSince(bucket.updated)) * rate)
            bucket.updated = now
            defer { buckets[key] = bucket }
            guard bucket.tokens >= 1 else { return .seconds((1 - bucket.tokens) / rate) }
            bucket.tokens -= 1
            return nil
        }
    }
}
