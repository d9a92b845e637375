import AssentCore
import AssentStore
import Testing

@Suite("The ingest's held timelines, bounded by bytes or not")
struct EventIngestTests {
    /// Loaders over a fixed set of timelines, counting the timelines asked for.
    final class Source {
        var timelines: [AccountID: AccountTimeline] = [:]
        var asked: [AccountID] = []
        var owners: [ConversationID: AccountID] = [:]
        var askedOwners: [ConversationID] = []

        /// `account`'s creation at `seq`.
        static func created(_ account: AccountID, seq: Int64, at: Instant) -> TimelineEntry {
            TimelineEntry(seq: seq, event: Event(account: account, at: at, .accountCreated(plan: "free")))
        }

        /// An ingest over these loaders at `at`, after `lastSeq` entries.
        func ingest(at: Instant, lastSeq: Int64, cacheBytes: Int) -> EventIngest {
            EventIngest(
                policies: PolicyHistory(), now: at, lastSeq: lastSeq, lastHash: LedgerChain.genesis, loaders: loaders,
                cacheBytes: cacheBytes)
        }

        var loaders: EventIngest.Loaders {
            EventIngest.Loaders(
                timelines: { [self] accounts in
                    asked += accounts
                    return timelines.filter { accounts.contains($0.key) }
                },
                owners: { [self] conversations, _ in
                    askedOwners += conversations
                    return (owners.filter { conversations.contains($0.key) }, [:])
                })
        }
    }

    @Test(
        "each account is loaded once, held with what was accepted, a refused event leaves it as it was; released, it is loaded again",
        arguments: [64 << 20, Int.max])
    func heldTimelines(cacheBytes: Int) throws {
        let at = t("2025-10-01T00:00:00Z")
        let source = Source()
        source.timelines["a"] = AccountTimeline(account: "a", entries: [Source.created("a", seq: 1, at: at)])
        let ingest = source.ingest(at: at, lastSeq: 1, cacheBytes: cacheBytes)
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

    @Test(
        "owners are asked only for conversations new to their event's account; one another account's names is asked, and refused",
        arguments: [64 << 20, Int.max])
    func ownersAskedForNewConversationsOnly(cacheBytes: Int) throws {
        let at = t("2025-10-01T00:00:00Z")
        let source = Source()
        func activity(_ account: AccountID, _ conversation: ConversationID) -> Event {
            Event(account: account, at: at, .conversationActivity(conversation: conversation, kind: .chat, incognito: false, content: nil))
        }
        source.timelines["a"] = AccountTimeline(
            account: "a", entries: [Source.created("a", seq: 1, at: at), TimelineEntry(seq: 2, event: activity("a", "a-c"))])
        source.timelines["b"] = AccountTimeline(account: "b", entries: [Source.created("b", seq: 3, at: at)])
        source.owners["a-c"] = "a"
        let ingest = source.ingest(at: at, lastSeq: 3, cacheBytes: cacheBytes)
        // a's own conversation needs no owner; a new one of a's does; a-c named by b is asked for b's event.
        let events = [activity("a", "a-c"), activity("a", "a-new"), activity("b", "a-c")]
        try ingest.prefetch(events)
        #expect(source.askedOwners.sorted() == ["a-c", "a-new"])
        _ = try ingest.accept(events[0], actor: "test")
        _ = try ingest.accept(events[1], actor: "test")
        #expect(throws: AssentError.self) { try ingest.accept(events[2], actor: "test") }
        #expect(source.askedOwners.count == 2, "every owner asked was answered by the prefetch")

        // Only a's own conversations: nothing is asked.
        source.askedOwners = []
        let again = source.ingest(at: at, lastSeq: 3, cacheBytes: cacheBytes)
        try again.prefetch([activity("a", "a-c"), activity("a", "a-c")])
        #expect(source.askedOwners.isEmpty)
    }
}
