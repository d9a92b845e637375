import AssentCore
import AssentStore
import Logging
@testable import AssentStorePostgres
import Testing

/// A PostgreSQL batch of several requests validates them one after another, each against the
/// timelines the requests before it left; the timelines are handed from the store's cache to the
/// batch and back without being copied, so a refused request's entries must be taken out again.
@Suite("One batch of several requests, its timelines handed over (PostgreSQL)", .enabled(if: PostgresTesting.adminURL != nil))
struct BatchTimelinesTests {
    static func activity(_ account: String, _ conversation: String, _ kind: ConversationKind, at: String) -> Event {
        Event(account: account, at: t(at), .conversationActivity(conversation: conversation, kind: kind, incognito: false, content: "x"))
    }

    static func request(_ events: [Event]) -> GroupCommit.Request {
        GroupCommit.Request(events: events, actor: "test", now: testNow, idempotency: nil)
    }

    /// Whether the outcome is a refusal with this code.
    static func refused(_ result: Result<GroupCommit.Outcome, any Error>, _ code: AssentError.Code) -> Bool {
        guard case .failure(let error) = result else { return false }
        return (error as? AssentError)?.code == code
    }

    @Test(
        "a request sees what the batch's earlier requests wrote, not what a refused one tried; the cached timelines are the ledger's",
        arguments: [1, 500])
    func refusedRequestLeavesNoTrace(planBeforeLockEvents: Int) async throws {
        try await Self.withStore(planBeforeLockEvents: planBeforeLockEvents, Self.refusedRequestLeavesNoTrace)
    }

    /// A store on a database of its own, its batches validated before the chain's lock
    /// (`planBeforeLockEvents` 1) or under it (500), closed after `body`.
    static func withStore(
        planBeforeLockEvents: Int, _ body: (PostgresStore, String) async throws -> Void
    ) async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer { PostgresTesting.drop(name) }
        var configuration = PostgresTesting.configuration()
        configuration.planBeforeLockEvents = planBeforeLockEvents
        try await PostgresTesting.withStore(url: url, configuration) { store in
            try await body(store, url)
        }
    }

    static func refusedRequestLeavesNoTrace(_ store: PostgresStore, url: String) async throws {
        try await store.importLines(Lines.optedIn("a1"))
        // Cached, so that the batch takes a1's timeline from the cache rather than the ledger.
        _ = try await store.timeline(of: "a1")
        let at = "2025-10-01T00:00:00Z"
        let results = try await store.commit([
            Self.request([Self.activity("a1", "cA", .chat, at: at)]),
            // Its first event is valid, its second not: refused whole.
            Self.request([
                Self.activity("a1", "cR", .chat, at: at),
                Event(account: "a1", at: t(at), .conversationDeleted(conversation: "nowhere")),
            ]),
            // cR does not exist (its activity was refused): a code session may open it.
            Self.request([Self.activity("a1", "cR", .code, at: at)]),
            // cA does: a chat, from the first request.
            Self.request([Self.activity("a1", "cA", .code, at: at)]),
            // A new account whose creation was refused with its request, then created.
            Self.request([
                Event(account: "n1", at: t(at), .accountCreated(plan: "free")),
                Event(account: "n1", at: t(at), .conversationDeleted(conversation: "nowhere")),
            ]),
            Self.request([Self.activity("n1", "cN", .chat, at: at)]),
            Self.request([Event(account: "n1", at: t(at), .accountCreated(plan: "free"))]),
        ])
        #expect(results.count == 7)
        #expect((try? results[0].get()) != nil)
        #expect(Self.refused(results[1], .unknownConversation), "\(results[1])")
        #expect((try? results[2].get()) != nil, "\(results[2])")
        #expect(Self.refused(results[3], .invalidEvent), "\(results[3])")
        #expect(Self.refused(results[4], .unknownConversation), "\(results[4])")
        #expect(Self.refused(results[5], .unknownAccount), "\(results[5])")
        #expect((try? results[6].get()) != nil, "\(results[6])")
        let verification = try await store.verifyLedger()
        #expect(verification.ok, "\(verification)")
        // The batch's timelines were cached once committed: each read is a hit, and what the
        // ledger holds.
        for account in ["a1", "n1"] { try await Self.expectCachedAsLedger(account, store, url: url) }
        // c1 is in a1's timeline, which the batch reads (so its owner is not asked of the database):
        // another account's activity in it is refused all the same.
        let claims = try await store.commit([
            Self.request([Self.activity("a1", "c1", .chat, at: at)]),
            Self.request([Self.activity("n1", "c1", .chat, at: at)]),
        ])
        #expect((try? claims[0].get()) != nil, "\(claims[0])")
        #expect(Self.refused(claims[1], .invalidEvent), "\(claims[1])")
        let a1 = try #require(try await store.timeline(of: "a1"))
        #expect(a1.conversation("cR")?.kind == .code)
        #expect(a1.conversation("cA")?.activities.count == 1)
    }

    @Test(
        "the accounts none of whose requests was accepted (refused, replayed) keep their cached timelines, as the ledger has them",
        arguments: [1, 500])
    func untouchedAccountsStayCached(planBeforeLockEvents: Int) async throws {
        try await Self.withStore(planBeforeLockEvents: planBeforeLockEvents, Self.untouchedAccountsStayCached)
    }

    static func untouchedAccountsStayCached(_ store: PostgresStore, url: String) async throws {
        try await store.importLines(Lines.optedIn("r1", conversation: "c1") + Lines.optedIn("p1", conversation: "c2"))
        let at = "2025-10-01T00:00:00Z"
        let keyed = { (events: [Event]) in
            GroupCommit.Request(
                events: events, actor: "test", now: testNow,
                idempotency: (IdempotentRequest(caller: "test", key: "k1", requestSha256: "s1"), { "written \($0.count)" }))
        }
        let first = try await store.commit([keyed([Self.activity("p1", "cP", .chat, at: at)])])
        #expect((try? first[0].get())?.replayed == false)
        _ = try await store.timeline(of: "r1")
        let results = try await store.commit([
            Self.request([
                Self.activity("r1", "cR", .chat, at: at), Event(account: "r1", at: t(at), .conversationDeleted(conversation: "nowhere")),
            ]),
            keyed([Self.activity("p1", "cP", .chat, at: at)]),
        ])
        #expect(Self.refused(results[0], .unknownConversation), "\(results[0])")
        #expect((try? results[1].get())?.replayed == true, "\(results[1])")
        for account in ["r1", "p1"] { try await Self.expectCachedAsLedger(account, store, url: url) }
    }

    @Test(
        "a batch that does not commit (the chain's lock not had in time, its write failing) gives its accounts' timelines back to the cache as read",
        .hangLimit, arguments: [1, 500])
    func uncommittedBatchGivesTimelinesBack(planBeforeLockEvents: Int) async throws {
        try await Self.withStore(planBeforeLockEvents: planBeforeLockEvents, Self.uncommittedBatchGivesTimelinesBack)
    }

    /// Expects the account's timeline to be read from the cache, and to be the ledger's.
    static func expectCachedAsLedger(_ account: String, _ store: PostgresStore, url: String) async throws {
        let before = try #require(store.cacheStatistics().first { $0.name == "timelines" })
        let cached = try #require(try await store.timeline(of: account))
        let after = try #require(store.cacheStatistics().first { $0.name == "timelines" })
        #expect(after.hits == before.hits + 1 && after.misses == before.misses, "\(account) still cached")
        #expect(try await PlannedAppendTests.facts(cached) == PlannedAppendTests.facts(PlannedAppendTests.coldTimeline(account, url: url)))
    }

    static func uncommittedBatchGivesTimelinesBack(_ store: PostgresStore, url: String) async throws {
        let logger = Logger(label: "test")
        try await store.importLines(Lines.optedIn("a1"))
        _ = try await store.timeline(of: "a1")
        let activity = Self.activity("a1", "cNew", .chat, at: "2025-10-01T00:00:00Z")
        // Another transaction holds the chain's head: the batch's wait for it ends without the
        // lock (before it: a plan made before the lock, if any, took the timeline). The wait is
        // cancelled once PostgreSQL shows the store's connection waiting, as a lock timeout
        // cancels it — the store's own timeout stays long: a short one also cut the test's later
        // commits, which wait on PostgreSQL's cluster-wide NOTIFY lock while other tests commit.
        try await PostgresAdmin.withConnection(url: url) { holder in
            try await holder.query("BEGIN", logger: logger)
            try await holder.query("SELECT last_seq FROM ledger_head FOR UPDATE", logger: logger)
            async let results = try? store.commit([Self.request([activity])])
            try await PostgresAdmin.withConnection(url: url) { watcher in
                while true {
                    let cancelled = try await watcher.query(
                        """
                        SELECT pg_cancel_backend(pid) FROM pg_stat_activity
                        WHERE datname = current_database() AND application_name = 'assent' AND wait_event_type = 'Lock'
                        """, logger: logger
                    ).collect()
                    if !cancelled.isEmpty { break }
                    try await Task.sleep(for: .milliseconds(2))
                }
            }
            #expect(await results == nil, "the batch could not have the lock")
            try await holder.query("ROLLBACK", logger: logger)
        }
        try await Self.expectCachedAsLedger("a1", store, url: url)
        // The write fails under the lock (a plan made under it took the timeline).
        try await PostgresAdmin.withConnection(url: url) { connection in
            try await connection.query(
                """
                CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$;
                """, logger: logger)
            try await connection.query(
                "CREATE TRIGGER test_refuse BEFORE INSERT ON content FOR EACH ROW EXECUTE FUNCTION test_refuse()", logger: logger)
        }
        let refused = try? await store.commit([Self.request([activity])])
        #expect(refused == nil, "the write failed")
        try await Self.expectCachedAsLedger("a1", store, url: url)
        try await PostgresAdmin.withConnection(url: url) { connection in
            _ = try await connection.query("DROP TRIGGER test_refuse ON content", logger: logger)
        }
        // Once the lock is free, the batch goes through.
        let results = try await store.commit([Self.request([activity])])
        #expect((try? results[0].get()) != nil)
        #expect(try await store.timeline(of: "a1")?.conversation("cNew") != nil)
    }
}
