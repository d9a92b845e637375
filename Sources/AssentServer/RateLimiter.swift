import AssentCore
import Synchronization

/// Token buckets by account: each account may make `perSecond` writes a second through the
/// user routes and pages, with bursts of `burst`. Bounded: the buckets of accounts idle long
/// enough to be full again are dropped when the table grows past `capacity`.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Int64
    }

    private let limit: RateLimit
    private let capacity: Int
    private let buckets = Mutex<[AccountID: Bucket]>([:])

    init(_ limit: RateLimit, capacity: Int = 100_000) {
        self.limit = limit
        self.capacity = capacity
    }

    /// Takes one token for `account` at `now`.
    /// - Returns: nil when allowed, else the whole seconds to wait.
    func take(_ account: AccountID, now: Instant) -> Int? {
        buckets.withLock { buckets in
            var bucket = buckets[account] ?? Bucket(tokens: Double(limit.burst), updated: now.microseconds)
            let elapsed = Double(max(0, now.microseconds - bucket.updated)) / 1_000_000
            bucket.tokens = min(Double(limit.burst), bucket.tokens + elapsed * limit.perSecond)
            bucket.updated = now.microseconds
            guard bucket.tokens >= 1 else {
                buckets[account] = bucket
                return max(1, Int(((1 - bucket.tokens) / limit.perSecond).rounded(.up)))
            }
            bucket.tokens -= 1
            buckets[account] = bucket
            if buckets.count > capacity { evictFull(&buckets, now: now) }
            return nil
        }
    }

    private func evictFull(_ buckets: inout [AccountID: Bucket], now: Instant) {
        let refill = Int64(Double(limit.burst) / limit.perSecond * 1_000_000)
        buckets = buckets.filter { now.microseconds - $0.value.updated < refill }
        if buckets.count > capacity { buckets.removeAll(keepingCapacity: true) }
    }
}
