public import AssentCore
import Synchronization

/// How fast one account may write through the user routes: `perSecond` tokens a second, at most
/// `burst` saved up.
public struct TokenRate: Sendable, Hashable {
    public var perSecond: Double
    public var burst: Int

    public init(perSecond: Double, burst: Int) {
        precondition(perSecond > 0 && burst >= 1, "a rate of at least one write")
        self.perSecond = perSecond
        self.burst = burst
    }

    /// How long an idle bucket takes to fill again: once full, it is the same as no bucket.
    public var refillMicros: Int64 { Int64((Double(burst) / perSecond * 1_000_000).rounded(.up)) }
}

/// One account's token bucket: the arithmetic every backend's buckets follow (PostgreSQL's in
/// SQL, ``PostgresStore``; the store suite holds the two to the same answers).
public struct TokenBucket: Sendable, Equatable {
    public var tokens: Double
    /// The newest instant the bucket was taken from (it never moves back: servers' clocks differ).
    public var updated: Int64

    /// A bucket first taken from at `now`: full.
    public static func full(_ rate: TokenRate, at now: Instant) -> TokenBucket {
        TokenBucket(tokens: Double(rate.burst), updated: now.microseconds)
    }

    /// Takes one token at `now`, after refilling for the time since `updated`.
    /// - Returns: nil when taken, else the whole seconds (at least 1) until a token is there.
    public mutating func take(_ rate: TokenRate, now: Instant) -> Int? {
        let elapsed = Double(max(0, now.microseconds - updated)) / 1_000_000
        tokens = min(Double(rate.burst), tokens + elapsed * rate.perSecond)
        updated = max(updated, now.microseconds)
        guard tokens >= 1 else { return Self.wait(tokens: tokens, rate) }
        tokens -= 1
        return nil
    }

    /// The whole seconds (at least 1) until a bucket holding `tokens` holds one.
    public static func wait(tokens: Double, _ rate: TokenRate) -> Int {
        max(1, Int(((1 - tokens) / rate.perSecond).rounded(.up)))
    }
}

/// Which of an account's two budgets a user request draws from.
public enum RateBucket: String, CaseIterable, Hashable, Sendable {
    /// Writes through the user routes and pages: each grows the ledger.
    case writes
    /// Reads whose cost grows with the account (its export, its conversations' list, its
    /// receipts): one token holder must not be able to keep the database reading without bound.
    case reads
}

/// Per-account token buckets for a user's writes and costly reads, where every server of the
/// database sees them: with several servers on one database, an account gets one budget of each
/// kind, not one per server.
public protocol RateBuckets: Sendable {
    /// Takes one token from `account`'s `bucket` at `now`.
    /// - Returns: nil when taken, else the whole seconds (at least 1) until one is there.
    func takeToken(account: AccountID, bucket: RateBucket, rate: TokenRate, now: Instant) async throws -> Int?
}

extension RateBuckets {
    /// Takes one token from `account`'s bucket of writes at `now`.
    public func takeToken(account: AccountID, rate: TokenRate, now: Instant) async throws -> Int? {
        try await takeToken(account: account, bucket: .writes, rate: rate, now: now)
    }
}

/// Buckets in this process's memory: the store of a database one server holds (SQLite).
/// Bounded: past `capacity` accounts, the buckets full again are dropped (as good as absent).
public final class LocalRateBuckets: Sendable {
    private let capacity: Int
    private let buckets = Mutex<[AccountID: TokenBucket]>([:])

    public init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    public func take(account: AccountID, rate: TokenRate, now: Instant) -> Int? {
        buckets.withLock { buckets in
            var bucket = buckets[account] ?? .full(rate, at: now)
            let wait = bucket.take(rate, now: now)
            buckets[account] = bucket
            if buckets.count > capacity {
                let refill = rate.refillMicros
                buckets = buckets.filter { now.microseconds - $0.value.updated < refill }
                if buckets.count > capacity { buckets.removeAll(keepingCapacity: true) }
            }
            return wait
        }
    }
}
