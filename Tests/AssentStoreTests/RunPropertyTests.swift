import AssentCore
import AssentDemo
import AssentStore
import AssentService
import PropertyBased
import Testing

/// For random generated timelines: the set a run selects equals the set the engine alone finds
/// eligible, and what `explain` reads from the store agrees with both.
@Suite("Run properties")
struct RunPropertyTests {
    @Test("run selection = engine-alone eligibility = explain", arguments: Backend.all)
    func runMatchesEngine(backend: Backend) async {
        let eligibleSeen = Mutex(0)
        let window = (DemoGenerator.windowStart.microseconds / 1_000_000)...(DemoGenerator.windowEnd.microseconds / 1_000_000)
        await propertyCheck(count: 25, input: Gen.uint64(in: 0...UInt64.max), Gen.int(in: 1...12), Gen.int64(in: window)) {
            seed, accounts, seconds in
            let at = Instant(secondsSinceEpoch: seconds)
            var generator = DemoGenerator(seed: seed)
            let events = (0..<accounts).flatMap { generator.account(index: $0) }.filter { $0.at <= at }
            // The engine alone, on timelines built in memory.
            let engine = PolicyEngine()
            var expectedConversations: Set<String> = []
            var expectedFeedback: Set<String> = []
            var timelines: [AccountID: AccountTimeline] = [:]
            let context = ValidationContext(policies: PolicyHistory(), now: nil)
            for (k, event) in events.enumerated() {
                var timeline = timelines[event.account] ?? AccountTimeline(account: event.account)
                try timeline.append(event.withoutContent, seq: Int64(k + 1), validatingWith: context)
                timelines[event.account] = timeline
            }
            for timeline in timelines.values {
                for c in timeline.conversations {
                    if engine.eligibility(of: c, in: timeline, at: at).eligible { expectedConversations.insert(c.id) }
                    for f in c.feedback where engine.eligibility(ofFeedback: f, of: c, in: timeline, at: at).eligible {
                        expectedFeedback.insert(f.id)
                    }
                }
            }
            try await withFreshStore(backend) { opened in
                let store = opened.store
                try await store.importLines(events.map { $0.json().canonicalText })
                let run = try await store.createRun(name: "r", at: at, purpose: .modelTraining, actor: "test", now: testNow)
                let selected = Mutex<(Set<String>, Set<String>)>(([], []))
                try await store.forEachRunItem(run: "r", kind: .conversation) { item in selected.withLock { _ = $0.0.insert(item.id) } }
                try await store.forEachRunItem(run: "r", kind: .feedback) { item in selected.withLock { _ = $0.1.insert(item.id) } }
                let (conversations, feedback) = selected.withLock { $0 }
                #expect(conversations == expectedConversations)
                #expect(feedback == expectedFeedback)
                #expect(run.conversations == expectedConversations.count)
                eligibleSeen.withLock { $0 += expectedConversations.count }
                // explain: the store's timeline, the engine, and the runs holding it.
                let policies = try await store.policyHistory()
                for timeline in timelines.values {
                    for c in timeline.conversations {
                        let owner = try await store.account(ofConversation: c.id)
                        #expect(owner == timeline.account)
                        let stored = try #require(try await store.timeline(of: timeline.account))
                        let explained = try PolicyEngine(policies: policies).eligibility(of: c.id, in: stored, at: at)
                        #expect(explained.eligible == expectedConversations.contains(c.id))
                        #expect(try await store.runs(holdingConversation: c.id) == (explained.eligible ? ["r"] : []))
                    }
                }
            }
        }
        // Not vacuous: the generated timelines did make conversations eligible.
        #expect(eligibleSeen.withLock { $0 } > 0)
    }
}
