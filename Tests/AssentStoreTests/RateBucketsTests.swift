import AssentCore
import AssentStore
import Testing

/// The user routes' rate buckets, kept by the store: the same arithmetic on every backend, one
/// bucket per account for every server of a PostgreSQL database.
@Suite("Rate buckets")
struct RateBucketsTests {
    static let start = t("2025-10-02T00:00:00Z")

    static func at(_ seconds: Double) -> Instant {
        Instant(microseconds: start.microseconds + Int64((seconds * 1_000_000).rounded()))
    }

    /// Takes of two accounts at instants that drain, refill (fractions of a token among them),
    /// stay refused, jump past a full refill and go back (a server whose clock is behind).
    static let takes: [(account: String, seconds: Double)] = [
        ("a1", 0), ("a1", 0), ("a1", 0.1), ("a1", 0.2), ("a2", 0.2), ("a1", 0.3), ("a1", 0.5), ("a1", 0.9),
        ("a1", 1.3), ("a1", 1.31), ("a2", 1.4), ("a1", 1.7), ("a1", 1.2), ("a1", 1.75), ("a1", 30), ("a1", 30),
        ("a1", 30), ("a1", 30), ("a1", 29), ("a1", 30.01), ("a2", 30.02), ("a1", 31.4),
    ]

    @Test(
        "every backend answers a sequence of takes as TokenBucket's arithmetic does, in either bucket",
        arguments: Backend.all, RateBucket.allCases)
    func sameArithmetic(backend: Backend, kind: RateBucket) async throws {
        let rate = TokenRate(perSecond: 2.5, burst: 3)
        try await withFreshStore(backend) { opened async throws in
            var model: [String: TokenBucket] = [:]
            var answers: [Int?] = []
            for (account, seconds) in Self.takes {
                var bucket = model[account] ?? .full(rate, at: Self.at(seconds))
                let expected = bucket.take(rate, now: Self.at(seconds))
                model[account] = bucket
                let answer = try await opened.store.takeToken(account: account, bucket: kind, rate: rate, now: Self.at(seconds))
                #expect(answer == expected, "\(account) at +\(seconds) s")
                answers.append(answer)
            }
            // The sequence is not vacuous: takes both taken and refused.
            #expect(answers.filter { $0 == nil }.count >= 5)
            #expect(answers.filter { $0 == 1 }.count >= 5)
        }
    }

    @Test("the bucket's wait names the whole seconds until a token: a slow rate waits longer", arguments: Backend.all)
    func waits(backend: Backend) async throws {
        let rate = TokenRate(perSecond: 0.25, burst: 1)
        try await withFreshStore(backend) { opened async throws in
            #expect(try await opened.store.takeToken(account: "a1", rate: rate, now: Self.at(0)) == nil)
            #expect(try await opened.store.takeToken(account: "a1", rate: rate, now: Self.at(0)) == 4)
            #expect(try await opened.store.takeToken(account: "a1", rate: rate, now: Self.at(2.5)) == 2)
            #expect(try await opened.store.takeToken(account: "a1", rate: rate, now: Self.at(4)) == nil)
        }
    }

    @Test(
        "two servers on one database: on PostgreSQL they take from one bucket per account; SQLite's is the process's",
        arguments: Backend.all, RateBucket.allCases)
    func sharedAcrossServers(backend: Backend, bucket: RateBucket) async throws {
        let rate = TokenRate(perSecond: 1, burst: 3)
        try await withFreshStore(backend) { opened async throws in
            let first = opened.store
            let second = try await opened.reopen()
            func take(_ store: any Store, _ account: String, _ seconds: Double) async throws -> Int? {
                try await store.takeToken(account: account, bucket: bucket, rate: rate, now: Self.at(seconds))
            }
            for _ in 0..<3 { #expect(try await take(first, "a1", 0) == nil) }
            #expect(try await take(first, "a1", 0) == 1)
            let fromSecond = try await take(second, "a1", 0)
            if backend.name == Backend.postgres.name {
                #expect(fromSecond == 1, "the other server's takes count")
                // And the other way: a token refilled is taken once, by either.
                #expect(try await take(second, "a1", 1) == nil)
                #expect(try await take(first, "a1", 1) == 1)
            } else {
                #expect(fromSecond == nil, "a SQLite file is served by one process: each keeps its own")
            }
            // Another account's bucket is its own.
            #expect(try await take(second, "a2", 0) == nil)
            try await second.close()
        }
    }

    @Test("an account's writes and costly reads draw from two buckets: draining one leaves the other full", arguments: Backend.all)
    func bucketsApart(backend: Backend) async throws {
        let writes = TokenRate(perSecond: 1, burst: 2)
        let reads = TokenRate(perSecond: 0.5, burst: 3)
        try await withFreshStore(backend) { opened async throws in
            let store = opened.store
            for _ in 0..<2 { #expect(try await store.takeToken(account: "a1", bucket: .writes, rate: writes, now: Self.at(0)) == nil) }
            #expect(try await store.takeToken(account: "a1", bucket: .writes, rate: writes, now: Self.at(0)) == 1)
            for _ in 0..<3 { #expect(try await store.takeToken(account: "a1", bucket: .reads, rate: reads, now: Self.at(0)) == nil) }
            #expect(try await store.takeToken(account: "a1", bucket: .reads, rate: reads, now: Self.at(0)) == 2)
            // The writes' bucket refills at its own rate, untouched by the reads.
            #expect(try await store.takeToken(account: "a1", bucket: .writes, rate: writes, now: Self.at(1)) == nil)
            #expect(try await store.takeToken(account: "a1", bucket: .reads, rate: reads, now: Self.at(1)) == 1)
        }
    }

    @Test(
        "PostgreSQL drops the buckets full again, about once a minute, and only those, in each bucket's table",
        arguments: RateBucket.allCases)
    func fullBucketsDropped(bucket: RateBucket) async throws {
        guard Backend.all.contains(where: { $0.name == Backend.postgres.name }) else { return }
        let rate = TokenRate(perSecond: 1, burst: 3)
        let table = bucket == .writes ? "rate_buckets" : "read_rate_buckets"
        try await withFreshStore(.postgres) { opened async throws in
            func kept(_ account: String) async -> Bool {
                do {
                    try await opened.execute(
                        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM \(table) WHERE account = '\(account)') THEN RAISE EXCEPTION 'kept'; END IF; END $$"
                    )
                    return false
                } catch {
                    return true
                }
            }
            let store = opened.store
            func take(_ account: String, _ seconds: Double) async throws -> Int? {
                try await store.takeToken(account: account, bucket: bucket, rate: rate, now: Self.at(seconds))
            }
            #expect(try await take("a1", 0) == nil)
            #expect(try await take("a2", 50) == nil)
            #expect(try await take("a2", 59) == nil)
            #expect(await kept("a1"), "a cleanup ran at 0 s; the next is due a minute later")
            // A minute after the last cleanup, buckets full for over a minute go: a1 (full since
            // 3 s); a2 (taken at 59 s, full at 62 s) stays.
            #expect(try await take("a3", 100) == nil)
            #expect(await kept("a1") == false)
            #expect(await kept("a2"))
            // Dropped is full: the next take of a1 starts a full bucket.
            for _ in 0..<3 { #expect(try await take("a1", 131) == nil) }
            #expect(try await take("a1", 131) == 1)
        }
    }
}
