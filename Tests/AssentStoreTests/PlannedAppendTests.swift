import AssentCore
import AssentStore
import AssentStorePostgres
import Synchronization
import Testing

/// PostgreSQL validates a batch of appends before it takes the chain's lock (issue 11): when
/// entries land meanwhile, the batch is chained after them if nothing it read moved, and
/// validated again under the lock if something did.
@Suite("Appends validated before the chain's lock (PostgreSQL)", .enabled(if: PostgresTesting.adminURL != nil))
struct PlannedAppendTests {
    /// An appender that pauses once, after validating its first batch, and another store on the
    /// same fresh database.
    static func stores() async throws -> (
        appender: PostgresStore, other: PostgresStore, pause: StagedImportTests.StagePause, url: String, name: String
    ) {
        let (url, name) = try await PostgresTesting.freshDatabase()
        let pause = StagedImportTests.StagePause()
        let once = OnceFlag()
        var configuration = PostgresTesting.configuration()
        configuration.afterAppendPlanned = { if once.first() { await pause.staged() } }
        configuration.planBeforeLockEvents = 1  // every batch, however small
        let appender = try await PostgresStore.open(url: url, configuration: configuration)
        let other = try await PostgresStore.open(url: url, configuration: PostgresTesting.configuration())
        return (appender, other, pause, url, name)
    }

    /// Runs `body` with the two stores (and their database's URL), closing them and dropping the
    /// database after.
    static func withStores(_ body: (PostgresStore, PostgresStore, StagedImportTests.StagePause, String) async throws -> Void) async throws {
        let (appender, other, pause, url, name) = try await stores()
        defer { PostgresTesting.drop(name) }
        try await body(appender, other, pause, url)
        try await appender.close()
        try await other.close()
    }

    /// What a timeline holds, seqs included, in a comparable form.
    static func facts(_ timeline: AccountTimeline?) -> String {
        guard let timeline else { return "none" }
        let conversations = timeline.conversations.map {
            "\($0.id): \($0.activities) \(String(describing: $0.deletion)) \($0.feedback) \($0.purges)"
        }
        return
            "\(timeline.entries)\n\(String(describing: timeline.creation)) \(timeline.plans) \(timeline.acceptances) \(timeline.choices) \(timeline.deferrals) \(String(describing: timeline.deletion))\n\(conversations)"
    }

    /// The account's timeline as a store that has cached nothing reads it from the ledger.
    static func coldTimeline(_ account: AccountID, url: String) async throws -> AccountTimeline? {
        let fresh = try await PostgresStore.open(url: url, configuration: PostgresTesting.configuration())
        let timeline = try await fresh.timeline(of: account)
        try await fresh.close()
        return timeline
    }

    static func choice(_ account: String, _ value: ChoiceValue = .off, at: String) -> Event {
        Event(account: account, at: t(at), .trainingChoice(value: value, source: .settings, shownDefault: nil))
    }

    /// Who writes while the appender's batch waits between its validation and the lock: another
    /// store on the database (its entries are asked of the database under the lock), or the
    /// appender itself, a second batch beside the first (what it wrote is known in memory).
    enum Meanwhile: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case otherStore = "another store"
        case sameStore = "the same store"
        var testDescription: String { rawValue }

        func writer(appender: PostgresStore, other: PostgresStore) -> PostgresStore { self == .sameStore ? appender : other }
    }

    @Test(
        "entries of other accounts land meanwhile: the batch is chained after them; its answer names the entries written",
        arguments: Meanwhile.allCases)
    func chainedAfterOthers(_ meanwhile: Meanwhile) async throws {
        try await Self.withStores { appender, other, pause, url in
            try await other.importLines(Lines.optedIn("a1") + Lines.optedIn("b1", conversation: "c2"))
            let appending = pause.task {
                try await appender.append([Self.choice("a1", at: "2025-09-20T00:00:00Z")], actor: "test", now: testNow)
            }
            try await pause.waitUntilStaged()
            let landed = try await meanwhile.writer(appender: appender, other: other).append(
                [Self.choice("b1", at: "2025-09-20T00:00:00Z"), Self.choice("b1", .on, at: "2025-09-21T00:00:00Z")], actor: "test",
                now: testNow)
            await pause.release()
            let appended = try await appending.value
            #expect(appended.map(\.seq) == [landed[1].seq + 1], "chained after what landed meanwhile")
            let written = try await other.ledgerEntries(ofAccount: "a1")
            #expect(written.last == appended.last, "the answer is the entry in the ledger")
            let verification = try await other.verifyLedger()
            #expect(verification.ok, "\(verification)")
            // The timeline the batch built was renumbered with its rows and cached: the next read
            // is a hit, and it is the timeline as the ledger has it.
            let timelineHits = { appender.cacheStatistics().first { $0.name == "timelines" }?.hits }
            let hits = try #require(timelineHits())
            let cached = try #require(try await appender.timeline(of: "a1"))
            #expect(timelineHits() == hits + 1, "cached once committed")
            #expect(cached.entries.last?.seq == appended[0].seq)
            #expect(try await Self.facts(cached) == Self.facts(Self.coldTimeline("a1", url: url)))
            // The same store's batch: chained after it before the lock, written as it was.
            let checks = appender.appendPlanChecks
            #expect(
                checks
                    == (meanwhile == .sameStore
                        ? AppendPlanChecks(prechained: 1) : AppendPlanChecks(byQuery: 1)),
                "\(checks)")
        }
    }

    @Test("the batch's account moved meanwhile: validated again under the lock — deleted meanwhile, the append is refused")
    func movedAccountRefused() async throws {
        try await Self.withStores { appender, other, pause, _ in
            try await other.importLines(Lines.optedIn("a1"))
            let appending = pause.task {
                try await appender.append(
                    [
                        Event(
                            account: "a1", at: t("2025-09-25T00:00:00Z"),
                            .conversationActivity(conversation: "late", kind: .chat, incognito: false, content: nil))
                    ],
                    actor: "test", now: testNow)
            }
            try await pause.waitUntilStaged()
            _ = try await other.append([Event(account: "a1", at: t("2025-09-24T00:00:00Z"), .accountDeleted)], actor: "test", now: testNow)
            let before = try await other.lastSeq()
            await pause.release()
            await #expect(throws: AssentError.self) { _ = try await appending.value }
            #expect(try await other.lastSeq() == before, "nothing of the refused batch was written")
            #expect(try await other.verifyLedger().ok)
            #expect(appender.appendPlanChecks.byQuery == 1, "another store's entry: asked of the database")
        }
    }

    @Test("a conversation id another account created meanwhile: validated again and refused", arguments: Meanwhile.allCases)
    func idTakenMeanwhile(_ meanwhile: Meanwhile) async throws {
        try await Self.withStores { appender, other, pause, _ in
            try await other.importLines(Lines.optedIn("a1") + Lines.optedIn("b1", conversation: "c2"))
            let activity = { @Sendable (account: String) in
                Event(
                    account: account, at: t("2025-09-25T00:00:00Z"),
                    .conversationActivity(conversation: "shared", kind: .chat, incognito: false, content: nil))
            }
            let appending = pause.task { try await appender.append([activity("a1")], actor: "test", now: testNow) }
            try await pause.waitUntilStaged()
            _ = try await meanwhile.writer(appender: appender, other: other).append([activity("b1")], actor: "test", now: testNow)
            let before = try await other.lastSeq()
            await pause.release()
            await #expect(throws: AssentError.self) { _ = try await appending.value }
            #expect(try await other.account(ofConversation: "shared") == "b1")
            #expect(try await other.lastSeq() == before, "nothing of the refused batch was written")
            #expect(try await other.verifyLedger().ok)
            let checks = appender.appendPlanChecks
            #expect(
                checks == (meanwhile == .sameStore ? AppendPlanChecks(inMemory: 1) : AppendPlanChecks(byQuery: 1)), "\(checks)")
        }
    }

    @Test("an Idempotency-Key the other server wrote meanwhile: the request is replayed, not written twice")
    func keyWrittenMeanwhile() async throws {
        try await Self.withStores { appender, other, pause, _ in
            try await other.importLines(Lines.optedIn("a1"))
            let request = IdempotentRequest(caller: "product", key: "retry-1", requestSha256: "same-body")
            let events = [Self.choice("a1", at: "2025-09-20T00:00:00Z")]
            let respond: @Sendable ([LedgerRecord]) -> String = { records in records.map { String($0.seq) }.joined(separator: ",") }
            let appending = pause.task {
                try await appender.append(events, actor: "test", now: testNow, idempotency: request, respond: respond)
            }
            try await pause.waitUntilStaged()
            let first = try await other.append(events, actor: "test", now: testNow, idempotency: request, respond: respond)
            let after = try await other.lastSeq()
            await pause.release()
            let second = try await appending.value
            #expect(!first.replayed)
            #expect(second.replayed)
            #expect(second.response == first.response)
            #expect(try await other.lastSeq() == after, "written once")
        }
    }
}

extension PlannedAppendTests {
    @Test("two stores appending at once, every batch validated before the lock: all acknowledged, each once, the chain unbroken")
    func concurrentPlanned() async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer { PostgresTesting.drop(name) }
        var configuration = PostgresTesting.configuration()
        configuration.planBeforeLockEvents = 1
        let first = try await PostgresStore.open(url: url, configuration: configuration)
        let second = try await PostgresStore.open(url: url, configuration: configuration)
        let accounts = (0..<6).map { "acct\($0)" }
        try await first.importLines(accounts.flatMap { Lines.optedIn($0, conversation: "\($0)-c") })
        let acknowledged = try await withThrowingTaskGroup(of: [LedgerRecord].self) { group in
            for k in 0..<120 {
                let store = k % 2 == 0 ? first : second
                // Shared accounts (both stores write them) and each store's own; new accounts too.
                let account = k % 3 == 0 ? "acct\(k % 2 + 4)" : accounts[k % 4]
                group.addTask {
                    try await store.append(
                        [
                            Self.choice(account, k % 4 == 0 ? .off : .on, at: "2025-10-01T00:00:00Z"),
                            Event(account: "new\(k)", at: t("2025-10-01T00:00:00Z"), .accountCreated(plan: "free")),
                        ],
                        actor: "test", now: testNow)
                }
            }
            var all: [LedgerRecord] = []
            for try await records in group { all += records }
            return all
        }
        #expect(acknowledged.count == 240)
        #expect(Set(acknowledged.map(\.seq)).count == 240, "no seq given twice")
        let verification = try await second.verifyLedger()
        #expect(verification.ok, "\(verification)")
        #expect(verification.entries == 1 + 6 * 5 + 240)
        for record in acknowledged.prefix(40) {
            #expect(try await first.ledgerEntries(ofAccount: record.account ?? "").contains(record), "\(record.seq) as answered")
        }
        // Batches chained after others cached their timelines renumbered: each as the ledger has it.
        for account in accounts + ["new0", "new1", "new7"] {
            for store in [first, second] {
                #expect(
                    try await Self.facts(store.timeline(of: account)) == Self.facts(Self.coldTimeline(account, url: url)), "\(account)")
            }
        }
        try await first.close()
        try await second.close()
    }
}

/// True the first time only.
final class OnceFlag: Sendable {
    private let used = Mutex(false)
    func first() -> Bool {
        used.withLock { used in
            defer { used = true }
            return !used
        }
    }
}
