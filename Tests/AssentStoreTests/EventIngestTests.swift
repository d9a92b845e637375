import AssentCore
import AssentStore
import Testing

@Suite("The ingest's held timelines, bounded by bytes or not")
struct EventIngestTests {
    /// Loaders over a fixed set of timelines, counting the timelines asked for.
    final class Source {
        var timelines: [AccountID: AccountTimeline] = [:]
        var asked: [AccountID] = []

        var loaders: EventIngest.Loaders {
            EventIngest.Loaders(
                timelines: { [self] accounts in
                    asked += accounts
                    return timelines.filter { accounts.contains($0.key) }
                },
                owners: { _, _ in ([:], [:]) })
        }
    }

    @Test(
        "each account is loaded once, held with what was accepted, a refused event leaves it as it was; released, it is loaded again",
        arguments: [64 << 20, Int.max])
    func heldTimelines(cacheBytes: Int) throws {
        let at = t("2025-10-01T00:00:00Z")
        let source = Source()
        source.timelines["a"] = AccountTimeline(
            account: "a", entries: [TimelineEntry(seq: 1, event: Event(account: "a", at: at, .accountCreated(plan: "free")))])
        let ingest = EventIngest(
            policies: PolicyHistory(), now: at, lastSeq: 1, lastHash: LedgerChain.genesis, loaders: source.loaders, cacheBytes: cacheBytes)
        let events = [
            Event(account: "a", at: at, .conversationActivity(conversation: "a-c", kind: .chat, incognito: false, content: "hi")),
            Event(account: "b", at: at, .accountCreated(plan: "free")),
            Event(account: "a", at: at, .conversationActivity(conversation: "a-c", kind: .chat, incognito: false, content: "again")),
        ]
        try ingest.prefetch(events)
        #expect(source.asked.sorted() == ["a", "b"])
        for event in events { _ = try ingest.accept(event, actor: "test") }
        // Refused (created twice): the held timeline keeps what it had.
        #expect(throws: AssentError.self) { try ingest.accept(Event(account: "b", at: at, .accountCreated(plan: "free")), actor: "test") }
        #expect(ingest.nextSeq == 5)
        #expect(source.asked.count == 2, "every accepted event found its timeline held")
        let statistics = ingest.cacheStatistics
        #expect(statistics.hits == 4 && statistics.misses == 0, "\(statistics)")
        #expect(statistics.entries == 2)
        let held = ingest.heldTimeline(of: "a")
        #expect(held?.entries.map(\.seq) == [1, 2, 4])
        #expect(held?.conversation("a-c")?.activities.count == 2)
        let released = Dictionary(uniqueKeysWithValues: ingest.releaseTimelines().map { ($0.account, $0.timeline) })
        #expect(released["a"]?.entries.map(\.seq) == [1, 2, 4])
        #expect(released["b"]?.entries.map(\.seq) == [3])
        #expect(ingest.heldTimeline(of: "a") == nil && ingest.cacheStatistics.entries == 0)
        // Released: asked of the loaders again.
        _ = try ingest.accept(
            Event(account: "a", at: at, .conversationActivity(conversation: "a-c", kind: .chat, incognito: false, content: nil)),
            actor: "test")
        #expect(source.asked.count == 3 && source.asked.last == "a")
        #expect(ingest.cacheStatistics.misses == 1)
    }
}
