import AssentCore
import AssentStore
import AssentService
import Foundation
import Testing

@Suite("Caches bounded by bytes")
struct CacheTests {
    @Test("least recently used entries go first, by their bytes, not their count")
    func lruByBytes() {
        let cache = ByteBoundedCache<String, String>(name: "t", budgetBytes: 100, maxEntryShare: 0.5) { _, value in value.utf8.count }
        #expect(cache.put("a", String(repeating: "a", count: 40)))
        #expect(cache.put("b", String(repeating: "b", count: 40)))
        #expect(cache.get("a") != nil)  // a is now newer than b
        #expect(cache.put("c", String(repeating: "c", count: 40)))  // 120 > 100: b goes
        #expect(cache.peek("b") == nil)
        #expect(cache.peek("a") != nil && cache.peek("c") != nil)
        // Many small entries: the budget holds them all, whatever their number.
        for k in 0..<10 { cache.put("s\(k)", "12") }
        var statistics = cache.statistics
        #expect(statistics.bytes <= 100)
        #expect(statistics.evictions >= 1)
        // A value over half the budget is not cached, and nothing else is evicted for it.
        let before = cache.statistics.entries
        #expect(!cache.put("huge", String(repeating: "h", count: 60)))
        #expect(cache.peek("huge") == nil)
        #expect(cache.statistics.entries == before)
        #expect(cache.statistics.uncached == 1)
        // Replacing a value adjusts the bytes; take removes it.
        cache.put("s0", "1234")
        #expect(cache.take("s0") == "1234")
        #expect(cache.peek("s0") == nil)
        statistics = cache.statistics
        #expect(statistics.hits >= 2 && statistics.misses == 0)
        #expect(cache.get("nope") == nil)
        #expect(cache.statistics.misses == 1)
        // contains: whether a key is cached (with a value that satisfies a condition), not a use.
        let small = ByteBoundedCache<String, String>(name: "u", budgetBytes: 100) { _, value in value.utf8.count }
        small.put("a", "apple")
        #expect(small.contains("a") && small.contains("a", where: { $0.hasPrefix("ap") }))
        #expect(!small.contains("a", where: { $0.hasPrefix("b") }))
        #expect(!small.contains("b") && !small.contains("b", where: { _ in true }))
        #expect(small.statistics.hits == 0 && small.statistics.misses == 0)
    }

    @Test("a cached timeline with another last entry is a miss, read or taken; taken with its own, it leaves the cache")
    func timelineCacheCountsStaleAsMiss() throws {
        let cache = TimelineCache(budgetBytes: 1 << 20)
        cache.put("a1", lastSeq: 5, AccountTimeline(account: "a1"))
        let counts = { (cache.statistics.hits, cache.statistics.misses) }
        #expect(cache.get("a1", lastSeq: 6) == nil)
        #expect(counts() == (0, 1))
        #expect(cache.take("a1", lastSeq: 6) == nil)
        #expect(counts() == (0, 2))
        #expect(cache.holds("a1"), "a stale timeline stays until a put replaces it")
        #expect(cache.get("a1", lastSeq: 5)?.account == "a1")
        #expect(counts() == (1, 2))
        #expect(cache.take("a1", lastSeq: 5)?.account == "a1")
        #expect(counts() == (2, 2))
        #expect(!cache.holds("a1"))
    }

    @Test("a timeline's estimate grows with its entries and conversations")
    func timelineEstimate() throws {
        var light = AccountTimeline(account: "a1")
        var heavy = AccountTimeline(account: "a2")
        let context = ValidationContext(policies: PolicyHistory(), now: t("2026-01-01T00:00:00Z"))
        try light.append(
            Event(account: "a1", at: t("2025-07-01T00:00:00Z"), .accountCreated(plan: "free")), seq: 1, validatingWith: context)
        try heavy.append(
            Event(account: "a2", at: t("2025-07-01T00:00:00Z"), .accountCreated(plan: "free")), seq: 2, validatingWith: context)
        for k in 0..<1_000 {
            try heavy.append(
                Event(
                    account: "a2", at: t("2025-07-02T00:00:00Z"),
                    .conversationActivity(conversation: "c\(k)", kind: .code, incognito: false, content: nil)),
                seq: Int64(3 + k), validatingWith: context)
        }
        #expect(light.estimatedBytes < 2_000)
        #expect(heavy.estimatedBytes > 500 * light.estimatedBytes / 10)
        #expect(heavy.estimatedBytes > 200_000)
    }

    @Test("the store's timeline cache stays within its budget, evicts by bytes, and keeps a heavy account out", arguments: Backend.all)
    func storeEvictsByBytes(backend: Backend) async throws {
        let budget = 64 << 10
        let opened = try await backend.makeWithCacheBudget(budget)
        defer { opened.cleanup() }
        let store = opened.store
        var lines: [String] = []
        for k in 0..<60 { lines += Lines.optedIn("acct\(k)", conversation: "c\(k)") }
        // One heavy account: far over a quarter of the budget.
        lines.append(Lines.created("heavy", "2025-07-01T00:00:00Z"))
        for k in 0..<400 { lines.append(Lines.activity("heavy", "h\(k)", "2025-08-01T00:00:00Z")) }
        try await store.importLines(lines)
        for k in 0..<60 { _ = try await AssentApp(store: store).prompt(account: "acct\(k)", at: t("2025-10-01T00:00:00Z")) }
        _ = try await AssentApp(store: store).prompt(account: "heavy", at: t("2025-10-01T00:00:00Z"))
        let timelines = try #require(store.cacheStatistics().first { $0.name == "timelines" })
        #expect(timelines.budgetBytes == budget)
        #expect(timelines.bytes <= budget)
        #expect(timelines.evictions > 0, "\(timelines)")
        #expect(timelines.entries < 61)
        #expect(timelines.uncached >= 1, "the heavy timeline is read without caching")
        // What was evicted is read again, and right.
        #expect(try await AssentApp(store: store).prompt(account: "acct0", at: t("2025-10-01T00:00:00Z")).prompt == .none)
        #expect(try #require(try await store.timeline(of: "heavy")).conversations.count == 400)
        let ingest = try #require(store.cacheStatistics().first { $0.name == "ingest" })
        #expect(ingest.budgetBytes == budget && ingest.evictions > 0, "\(ingest)")
        try await store.close()
    }
}
