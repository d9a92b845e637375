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

    @Test("every backend answers a sequence of takes as TokenBucket's arithmetic does", arguments: Backend.all)
    func sameArithmetic(backend: Backend) async throws {
        let rate = TokenRate(perSecond: 2.5, burst: 3)
        try await withFreshStore(backend) { opened async throws in
            var model: [String: TokenBucket] = [:]
            var answers: [Int?] = []
            for (account, seconds) in Self.takes {
                var bucket = model[account] ?? .full(rate, at: Self.at(seconds))
                let expected = bucket.take(rate, now: Self.at(seconds))
                model[account] = bucket
                let answer = try await opened.store.takeToken(account: account, rate: rate, now: Self.at(seconds))
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
        arguments: Backend.all)
    func sharedAcrossServers(backend: Backend) async throws {
        let rate = TokenRate(perSecond: 1, burst: 3)
        try await withFreshStore(backend) { opened async throws in
            let first = opened.store
            let second = try await opened.reopen()
            for _ in 0..<3 { #expect(try await first.takeToken(account: "a1", rate: rate, now: Self.at(0)) == nil) }
            #expect(try await first.takeToken(account: "a1", rate: rate, now: Self.at(0)) == 1)
            let fromSecond = try await second.takeToken(account: "a1", rate: rate, now: Self.at(0))
            if backend.name == Backend.postgres.name {
                #expect(fromSecond == 1, "the other server's takes count")
                // And the other way: a token refilled is taken once, by either.
                #expect(try await second.takeToken(account: "a1", rate: rate, now: Self.at(1)) == nil)
                #expect(try await first.takeToken(account: "a1", rate: rate, now: Self.at(1)) == 1)
            } else {
                #expect(fromSecond == nil, "a SQLite file is served by one process: each keeps its own")
            }
            // Another account's bucket is its own.
            #expect(try await second.takeToken(account: "a2", rate: rate, now: Self.at(0)) == nil)
            try await second.close()
        }
    }

    @Test("PostgreSQL drops the buckets full again, about once a minute, and only those")
    func fullBucketsDropped() async throws {
        guard Backend.all.contains(where: { $0.name == Backend.postgres.name }) else { return }
        let rate = TokenRate(perSecond: 1, burst: 3)
        try await withFreshStore(.postgres) { opened async throws in
            func kept(_ account: String) async -> Bool {
                do {
                    try await opened.execute(
                        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM rate_buckets WHERE account = '\(account)') THEN RAISE EXCEPTION 'kept'; END IF; END $$"
                    )
                    return false
                } catch {
                    return true
                }
            }
            let store = opened.store
            #expect(try await store.takeToken(account: "a1", rate: rate, now: Self.at(0)) == nil)
            #expect(try await store.takeToken(account: "a2", rate: rate, now: Self.at(50)) == nil)
            #expect(try await store.takeToken(account: "a2", rate: rate, now: Self.at(59)) == nil)
            #expect(await kept("a1"), "a cleanup ran at 0 s; the next is due a minute later")
            // A minute after the last cleanup, buckets full for over a minute go: a1 (full since
            // 3 s); a2 (taken at 59 s, full at 62 s) stays.
            #expect(try await store.takeToken(account: "a3", rate: rate, now: Self.at(100)) == nil)
            #expect(await kept("a1") == false)
            #expect(await kept("a2"))
            // Dropped is full: the next take of a1 starts a full bucket.
            for _ in 0..<3 { #expect(try await store.takeToken(account: "a1", rate: rate, now: Self.at(131)) == nil) }
            #expect(try await store.takeToken(account: "a1", rate: rate, now: Self.at(131)) == 1)
        }
    }
}
