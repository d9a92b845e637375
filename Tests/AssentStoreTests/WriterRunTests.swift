import AssentCore
import AssentStore
import Logging
import Testing

@testable import AssentStorePostgres

/// A store's unbroken run of appends vouches for the timelines it cached as each batch committed
/// (``WriterRun``): a plan whose ledger head the run left takes them without reading the accounts'
/// heads. Anything else that writes the ledger ends the run.
@Suite("This store's run of writes")
struct WriterRunTests {
    static func head(_ seq: Int64, _ tag: UInt8 = 0) -> PostgresStore.Head {
        LandedBatchesTests.head(seq, tag)
    }

    @Test("batches one after another go on with one run; a batch after a head the run did not leave begins another")
    func extend() {
        let run = WriterRun()
        #expect(run.current == nil)
        let first = run.extend(after: Self.head(10), to: Self.head(14))
        #expect(run.extend(after: Self.head(14), to: Self.head(20)) == first)
        #expect(run.current == first)
        for seq: Int64 in [10, 14, 20] { #expect(run.run(at: Self.head(seq)) == first, "head \(seq)") }
        // The same seq with another hash is not a head the run left; nor is a later one.
        #expect(run.run(at: Self.head(20, 7)) == nil)
        #expect(run.run(at: Self.head(21)) == nil)
        // Another writer's entries came between 20 and 25.
        let second = run.extend(after: Self.head(25), to: Self.head(30))
        #expect(second != first)
        #expect(run.run(at: Self.head(20)) == nil, "the old run's heads are gone")
        #expect(run.run(at: Self.head(25)) == second && run.run(at: Self.head(30)) == second)
        // After a head of the same seq as the run's last but another hash: another run.
        #expect(run.extend(after: Self.head(30, 1), to: Self.head(31)) != second)
    }

    @Test("a failed batch ends the run: no head is the run's until a batch begins another, never the same")
    func broken() {
        let run = WriterRun()
        let first = run.extend(after: Self.head(10), to: Self.head(14))
        run.breakRun()
        #expect(run.current == nil)
        #expect(run.run(at: Self.head(14)) == nil)
        let next = run.extend(after: Self.head(14), to: Self.head(18))
        #expect(next != first, "the failed batch's head does not carry its run on")
    }

    @Test("only the run's last heads are kept")
    func capacity() {
        let run = WriterRun()
        var seq: Int64 = 0
        let id = run.extend(after: Self.head(seq), to: Self.head(seq + 1))
        seq += 1
        for _ in 0..<(WriterRun.capacity + 4) {
            #expect(run.extend(after: Self.head(seq), to: Self.head(seq + 1)) == id)
            seq += 1
        }
        #expect(run.run(at: Self.head(seq)) == id)
        #expect(run.run(at: Self.head(seq - Int64(WriterRun.capacity) + 1)) == id)
        #expect(run.run(at: Self.head(seq - Int64(WriterRun.capacity))) == nil)
        #expect(run.run(at: Self.head(1)) == nil)
    }

    @Test("a cached timeline is taken as vouched for only by the run it was put in, and is then gone")
    func cacheStamps() throws {
        let cache = TimelineCache(budgetBytes: 1 << 20)
        let timeline = AccountTimeline(account: "a1", entries: [])
        cache.put("a1", lastSeq: 7, timeline, run: 3)
        cache.put("b1", lastSeq: 8, timeline)
        #expect(cache.isVouched("a1", run: 3))
        #expect(!cache.isVouched("a1", run: 4))
        #expect(!cache.isVouched("b1", run: 3), "put without a run: its head is read")
        #expect(cache.take("a1", run: 4) == nil)
        #expect(cache.holds("a1"), "left where it was")
        let taken = try #require(cache.take("a1", run: 3))
        #expect(taken.lastSeq == 7)
        #expect(!cache.holds("a1"))
        // Put again by a reader that checks the head: no longer vouched for.
        cache.put("a1", lastSeq: 7, timeline)
        #expect(!cache.isVouched("a1", run: 3))
    }
}

/// The same, on a database: what a store's plans take without reading heads, and what they read.
@Suite("This store's run of writes (PostgreSQL)", .enabled(if: PostgresTesting.adminURL != nil))
struct WriterRunStoreTests {
    static func activity(_ account: String, _ conversation: String, at: String = "2025-10-01T00:00:00Z") -> Event {
        BatchTimelinesTests.activity(account, conversation, .chat, at: at)
    }

    static func commit(_ store: PostgresStore, _ events: [Event]) async throws -> Result<GroupCommit.Outcome, any Error> {
        try await store.commit([BatchTimelinesTests.request(events)])[0]
    }

    @Test("the store's own batches one after another: the next takes its accounts' timelines as the last left them, the ledger's")
    func ownBatches() async throws {
        try await BatchTimelinesTests.withStore(planBeforeLockEvents: 1) { store, url in
            try await store.importLines(Lines.optedIn("a1", conversation: "c1") + Lines.optedIn("b1", conversation: "c2"))
            _ = try await Self.commit(store, [Self.activity("a1", "c1"), Self.activity("b1", "c2")]).get()
            let before = store.appendPlanChecks.vouched
            _ = try await Self.commit(store, [Self.activity("a1", "c1", at: "2025-10-02T00:00:00Z"), Self.activity("a1", "c3")]).get()
            #expect(store.appendPlanChecks.vouched == before + 1, "a1's head not read")
            try await BatchTimelinesTests.expectCachedAsLedger("a1", store, url: url)
            try await BatchTimelinesTests.expectCachedAsLedger("b1", store, url: url)
            #expect(try await store.verifyLedger().ok)
        }
    }

    @Test("another store's entry between two batches: the heads are read, and the batch is validated against that entry")
    func anotherWriter() async throws {
        try await BatchTimelinesTests.withStore(planBeforeLockEvents: 1) { store, url in
            try await store.importLines(Lines.optedIn("a1", conversation: "c1"))
            _ = try await Self.commit(store, [Self.activity("a1", "c1")]).get()
            try await PostgresTesting.withStore(url: url) { other in
                _ = try await other.append(
                    [Event(account: "a1", at: t("2025-10-03T00:00:00Z"), .conversationDeleted(conversation: "c1"))], actor: "test",
                    now: testNow)
            }
            let before = store.appendPlanChecks.vouched
            // c1 is deleted: its activity is refused, whatever this store cached of a1.
            let result = try await Self.commit(store, [Self.activity("a1", "c1", at: "2025-10-04T00:00:00Z")])
            #expect((try? result.get()) == nil, "\(result)")
            #expect(store.appendPlanChecks.vouched == before)
            try await BatchTimelinesTests.expectCachedAsLedger("a1", store, url: url)
        }
    }

    @Test("the store's own import between two batches ends the run: the next batch reads its accounts' heads")
    func ownImport() async throws {
        try await BatchTimelinesTests.withStore(planBeforeLockEvents: 1) { store, url in
            try await store.importLines(Lines.optedIn("a1", conversation: "c1"))
            _ = try await Self.commit(store, [Self.activity("a1", "c1")]).get()
            try await store.importLines([Lines.deleted("a1", "c1", "2025-10-03T00:00:00Z")])
            let before = store.appendPlanChecks.vouched
            let result = try await Self.commit(store, [Self.activity("a1", "c1", at: "2025-10-04T00:00:00Z")])
            #expect((try? result.get()) == nil, "\(result)")
            #expect(store.appendPlanChecks.vouched == before)
            try await BatchTimelinesTests.expectCachedAsLedger("a1", store, url: url)
        }
    }

    @Test("a batch whose write fails under the lock ends the run", .hangLimit)
    func failedBatch() async throws {
        try await BatchTimelinesTests.withStore(planBeforeLockEvents: 1) { store, url in
            let logger = Logger(label: "test")
            try await store.importLines(Lines.optedIn("a1", conversation: "c1"))
            _ = try await Self.commit(store, [Self.activity("a1", "c1")]).get()
            #expect(store.writerRun.current != nil)
            try await PostgresAdmin.withConnection(url: url) { connection in
                try await connection.query(
                    "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$",
                    logger: logger)
                try await connection.query(
                    "CREATE TRIGGER test_refuse BEFORE INSERT ON content FOR EACH ROW EXECUTE FUNCTION test_refuse()", logger: logger)
            }
            let failed = try? await Self.commit(store, [Self.activity("a1", "c1", at: "2025-10-02T00:00:00Z")])
            #expect(failed == nil, "the write failed")
            #expect(store.writerRun.current == nil)
            try await PostgresAdmin.withConnection(url: url) { connection in
                _ = try await connection.query("DROP TRIGGER test_refuse ON content", logger: logger)
            }
            let before = store.appendPlanChecks.vouched
            _ = try await Self.commit(store, [Self.activity("a1", "c1", at: "2025-10-03T00:00:00Z")]).get()
            #expect(store.appendPlanChecks.vouched == before, "a1's head read after the failure")
            try await BatchTimelinesTests.expectCachedAsLedger("a1", store, url: url)
        }
    }

    @Test(
        "two stores appending large batches to the same accounts in turn, conversations deleted on both: no activity lands after its conversation's deletion",
        .hangLimit)
    func twoWritersInTurn() async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer { PostgresTesting.drop(name) }
        var configuration = PostgresTesting.configuration()
        configuration.planBeforeLockEvents = 1  // every batch planned before the lock
        let accounts = (1...6).map { "s\($0)" }
        try await PostgresTesting.withStore(url: url, configuration) { first in
            try await first.importLines(accounts.flatMap { Lines.optedIn($0, conversation: "\($0)-c0") })
            try await PostgresTesting.withStore(url: url, configuration) { second in
                // Each store's batch follows the other's: every batch finds the other's entries
                // since its own last. Instants rise throughout, so an activity written after its
                // conversation's deletion is also later than it, and the rules refuse it.
                var instant = t("2025-10-01T00:00:00Z").microseconds
                for round in 0..<20 {
                    for (w, store) in [first, second].enumerated() {
                        var requests: [GroupCommit.Request] = []
                        for (k, account) in accounts.enumerated() {
                            // Conversations 0...3 of each account, written by both stores.
                            let conversation = "\(account)-c\((round + k + w) % 4)"
                            instant += 1_000_000
                            let at = Instant(microseconds: instant)
                            let event =
                                (round + k + w) % 5 == 0
                                ? Event(account: account, at: at, .conversationDeleted(conversation: conversation))
                                : Event(
                                    account: account, at: at,
                                    .conversationActivity(conversation: conversation, kind: .chat, incognito: false, content: "x"))
                            requests.append(BatchTimelinesTests.request([event]))
                        }
                        _ = try await store.commit(requests)
                    }
                }
            }
            #expect(try await first.verifyLedger().ok)
            var deletions = 0
            for account in accounts {
                let timeline = try #require(try await PlannedAppendTests.coldTimeline(account, url: url))
                var deleted: [ConversationID: Int64] = [:]
                for entry in timeline.entries {
                    switch entry.event.body {
                    case .conversationDeleted(let conversation):
                        deleted[conversation] = deleted[conversation] ?? entry.seq
                    case .conversationActivity(let conversation, _, _, _):
                        if let seq = deleted[conversation] {
                            Issue.record("\(account): activity of \(conversation) at seq \(entry.seq), after its deletion at \(seq)")
                        }
                    default: break
                    }
                }
                deletions += deleted.count
            }
            #expect(deletions > 0, "conversations were deleted")
        }
    }
}
