import AssentCore
import AssentStore
import AssentStorePostgres
import Foundation
import Testing

/// PostgreSQL validates an import before it takes the chain's lock (issue 11): other writers are
/// not held up while a file is read, and what they wrote meanwhile is accounted for.
@Suite("Imports staged outside the chain's lock (PostgreSQL)", .enabled(if: PostgresTesting.adminURL != nil))
struct StagedImportTests {
    /// Held when an import is staged, until the test lets it go on.
    actor StagePause {
        private var arrived = false
        private var workEnded = false
        private var arrival: CheckedContinuation<Void, Never>?
        private let gate = AsyncGate()

        func staged() async {
            arrived = true
            arrival?.resume()
            arrival = nil
            await gate.wait()
        }

        /// Waits until the import is staged, or has ended without being staged (a line refused in
        /// step 1): then the test fails rather than wait for ever.
        func waitUntilStaged() async throws {
            if !arrived && !workEnded { await withCheckedContinuation { arrival = $0 } }
            try #require(arrived, "the work ended before it paused")
        }

        /// Starts `work` in a task that tells this pause when it ends: work that fails before it
        /// pauses then ends `waitUntilStaged` instead of leaving it waiting for ever.
        nonisolated func task<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) -> Task<T, any Error> {
            Task {
                defer { Task { await self.ended() } }
                return try await work()
            }
        }

        /// The paused work ended (it may never have paused).
        func ended() {
            workEnded = true
            arrival?.resume()
            arrival = nil
        }

        func release() async { await gate.open() }
    }

    /// How many staged events each import read back under the lock.
    actor ReadBack {
        private(set) var counts: [Int] = []
        func record(_ count: Int) { counts.append(count) }
    }

    /// An importer that pauses once staged, and another store on the same fresh database.
    static func stores(readBack: ReadBack? = nil) async throws -> (
        importer: PostgresStore, other: PostgresStore, pause: StagePause, name: String
    ) {
        let (url, name) = try await PostgresTesting.freshDatabase()
        let pause = StagePause()
        var configuration = PostgresTesting.configuration()
        configuration.afterImportStaged = { await pause.staged() }
        if let readBack { configuration.afterImportReadBack = { await readBack.record($0) } }
        let importer = try await PostgresStore.open(url: url, configuration: configuration)
        let other = try await PostgresStore.open(url: url, configuration: PostgresTesting.configuration())
        return (importer, other, pause, name)
    }

    static func choice(_ account: String, at: String) -> Event {
        Event(account: account, at: t(at), .trainingChoice(value: .off, source: .settings, shownDefault: nil))
    }

    @Test("appends are acknowledged while an import is staged; the import lands after them, the chain unbroken")
    func appendsWhileStaged() async throws {
        let (importer, other, pause, name) = try await Self.stores()
        defer { PostgresTesting.drop(name) }
        try await other.importLines(Lines.optedIn("a1") + [Lines.created("b1", "2025-07-01T00:00:00Z")])
        let lines = (0..<1_200).flatMap { k in
            [Lines.created("n\(k)", "2025-08-01T00:00:00Z"), Lines.accepted("n\(k)", "2025-09-01T00:00:00Z")]
        }
        let importing = pause.task { try await importer.importLines(lines) }
        try await pause.waitUntilStaged()
        // The import is validated and held before the lock: appends go through meanwhile.
        let appended = try await other.append([Self.choice("a1", at: "2025-09-20T00:00:00Z")], actor: "test", now: testNow)
        await pause.release()
        let summary = try await importing.value
        #expect(summary.events == lines.count)
        #expect(try #require(summary.firstSeq) > appended[0].seq, "the import took its seqs after the append")
        let verification = try await other.verifyLedger()
        #expect(verification.ok, "\(verification)")
        #expect(try await other.timeline(of: "n1199")?.entries.count == 2)
        try await importer.close()
        try await other.close()
    }

    @Test("other accounts' entries landed while staged: the import keeps its validation; text, ids and heads land at the shifted seqs")
    func othersLandedMeanwhile() async throws {
        let (importer, other, pause, name) = try await Self.stores()
        defer { PostgresTesting.drop(name) }
        try await other.importLines(Lines.optedIn("a9", conversation: "c9"))
        let lines =
            Lines.optedInAndNeverChose + [
                Lines.created("a3", "2025-07-01T00:00:00Z"), Lines.activity("a3", "c3", "2025-09-03T00:00:00Z", content: "tab\\there"),
            ]
        let importing = pause.task { try await importer.importLines(lines) }
        try await pause.waitUntilStaged()
        let appended = try await other.append(
            [Self.choice("a9", at: "2025-09-20T00:00:00Z"), Self.choice("a9", at: "2025-09-21T00:00:00Z")], actor: "test", now: testNow)
        await pause.release()
        let summary = try await importing.value
        let first = try #require(summary.firstSeq)
        #expect(first == appended[1].seq + 1, "the import took its seqs after the appends")
        #expect(summary.lastSeq == first + Int64(lines.count) - 1)
        // Line k of the file is entry first + k - 1: its text, and the ids it created, name it.
        #expect(try await other.content(ofEntry: first + 1) == "hello from a1")
        #expect(try await other.content(ofEntry: first + 6) == "opted-out chat")
        #expect(try await other.content(ofEntry: first + 7) == "kept five years")
        #expect(try await other.content(ofEntry: first + 9) == "tab\there")
        #expect(try await other.account(ofConversation: "c1") == "a1")
        #expect(try await other.account(ofConversation: "c3") == "a3")
        // f2 is a2's: another account cannot submit it (its owner row was written).
        await #expect(throws: AssentError.self) {
            _ = try await other.append(
                [
                    Event(
                        account: "a3", at: t("2025-09-04T00:00:00Z"),
                        .feedbackSubmitted(conversation: "c3", feedback: "f2", rating: .up, comment: nil))
                ],
                actor: "test", now: testNow)
        }
        #expect(try await other.timeline(of: "a2")?.entries.map(\.seq) == [first + 5, first + 6, first + 7])
        // The accounts' heads moved with the import: an entry appended now is checked against it.
        let later = try await other.append([Self.choice("a1", at: "2025-09-26T00:00:00Z")], actor: "test", now: testNow)
        #expect(later[0].seq == first + Int64(lines.count))
        let verification = try await other.verifyLedger()
        #expect(verification.ok, "\(verification)")
        try await importer.close()
        try await other.close()
    }

    @Test("text written by COPY comes back byte for byte: tabs, newlines, backslashes, \\N, non-ASCII")
    func copyEscapes() async throws {
        let (importer, other, pause, name) = try await Self.stores()
        defer { PostgresTesting.drop(name) }
        await pause.release()
        // The line carries the text JSON-escaped; Swift's escapes here are JSON's.
        let escaped = #"a\tb\nc\r\\d \\N \\x41 é 😀 \"quoted\""#
        let tricky = "a\tb\nc\r\\d \\N \\x41 é 😀 \"quoted\""
        let summary = try await importer.importLines(
            Lines.optedIn("a1") + [Lines.activity("a1", "c-tricky", "2025-09-25T00:00:00Z", content: escaped)])
        let seq = try #require(summary.lastSeq)
        #expect(try await other.content(ofEntry: seq) == tricky)
        #expect(try await other.verifyLedger().ok, "bodies and hashes written by COPY check out")
        try await importer.close()
        try await other.close()
    }

    @Test("an account that moved while the import was staged is validated again: deleted meanwhile, the import is refused whole")
    func movedAccountRefused() async throws {
        let (importer, other, pause, name) = try await Self.stores()
        defer { PostgresTesting.drop(name) }
        try await other.importLines(Lines.optedIn("a1"))
        let before = try await other.lastSeq()
        let lines = [
            Lines.created("x1", "2025-08-01T00:00:00Z"),
            Lines.activity("a1", "a1-late", "2025-09-25T00:00:00Z"),
        ]
        let importing = pause.task { try await importer.importLines(lines) }
        try await pause.waitUntilStaged()
        _ = try await other.append(
            [Event(account: "a1", at: t("2025-09-24T00:00:00Z"), .accountDeleted)], actor: "test", now: testNow)
        await pause.release()
        do {
            _ = try await importing.value
            Issue.record("an activity after the account's deletion was imported")
        } catch let error as AssentError {
            #expect(error.message.hasPrefix("line 2: "), "\(error)")
        }
        #expect(try await other.lastSeq() == before + 1, "only the deletion was written")
        #expect(try await other.timeline(of: "x1") == nil, "nothing of the import, not even its valid lines")
        #expect(try await other.verifyLedger().ok)
        try await importer.close()
        try await other.close()
    }

    @Test("an account that moved while staged but whose lines still hold is imported, after what moved it; only its lines are read back")
    func movedAccountStillValid() async throws {
        let readBack = ReadBack()
        let (importer, other, pause, name) = try await Self.stores(readBack: readBack)
        defer { PostgresTesting.drop(name) }
        try await other.importLines(Lines.optedIn("a1"))
        let lines =
            [Lines.created("x1", "2025-08-01T00:00:00Z"), Lines.activity("a1", "a1-new", "2025-09-25T00:00:00Z")]
            + Lines.optedIn("x2", conversation: "x2-c")
        let importing = pause.task { try await importer.importLines(lines) }
        try await pause.waitUntilStaged()
        let choice = try await other.append([Self.choice("a1", at: "2025-09-21T00:00:00Z")], actor: "test", now: testNow)
        await pause.release()
        let summary = try await importing.value
        #expect(try #require(summary.firstSeq) == choice[0].seq + 1)
        #expect(await readBack.counts == [1], "the moved account's one line, not the file")
        #expect(try await other.account(ofConversation: "a1-new") == "a1")
        #expect(try await other.account(ofConversation: "x2-c") == "x2")
        #expect(try await other.timeline(of: "a1")?.entries.count == Lines.optedIn("a1").count + 2)
        #expect(try await other.timeline(of: "x2")?.entries.count == Lines.optedIn("x2").count)
        #expect(try await other.verifyLedger().ok)
        try await importer.close()
        try await other.close()
    }

    @Test("an account that started a staged conversation itself while the import was staged: the staged activity continues it")
    func movedAccountStartedConversation() async throws {
        let readBack = ReadBack()
        let (importer, other, pause, name) = try await Self.stores(readBack: readBack)
        defer { PostgresTesting.drop(name) }
        try await other.importLines(Lines.optedIn("a1"))
        let lines = [Lines.activity("a1", "both", "2025-09-25T00:00:00Z"), Lines.created("x1", "2025-08-01T00:00:00Z")]
        let importing = pause.task { try await importer.importLines(lines) }
        try await pause.waitUntilStaged()
        let started = try await other.append(
            [
                Event(
                    account: "a1", at: t("2025-09-24T00:00:00Z"),
                    .conversationActivity(conversation: "both", kind: .chat, incognito: false, content: "first"))
            ],
            actor: "test", now: testNow)
        await pause.release()
        let summary = try await importing.value
        #expect(summary.events == 2)
        #expect(await readBack.counts == [1])
        let conversation = try #require(try await other.timeline(of: "a1")?.conversation("both"))
        #expect(conversation.activities.map(\.seq) == [started[0].seq, try #require(summary.firstSeq)])
        #expect(try await other.account(ofConversation: "both") == "a1")
        #expect(try await other.timeline(of: "x1") != nil)
        #expect(try await other.verifyLedger().ok)
        try await importer.close()
        try await other.close()
    }

    @Test("a conversation id another account took while the import was staged: the import is refused")
    func idTakenMeanwhile() async throws {
        let (importer, other, pause, name) = try await Self.stores()
        defer { PostgresTesting.drop(name) }
        try await other.importLines(Lines.optedIn("a1") + Lines.optedIn("a2", conversation: "c2"))
        let importing = pause.task { try await importer.importLines([Lines.activity("a2", "c9", "2025-09-25T00:00:00Z")]) }
        try await pause.waitUntilStaged()
        _ = try await other.append(
            [
                Event(
                    account: "a1", at: t("2025-09-25T00:00:00Z"),
                    .conversationActivity(conversation: "c9", kind: .chat, incognito: false, content: nil))
            ],
            actor: "test", now: testNow)
        await pause.release()
        do {
            _ = try await importing.value
            Issue.record("a2 was given a conversation a1 owns")
        } catch let error as AssentError {
            #expect(error.message.hasPrefix("line 1: "), "\(error)")
        }
        #expect(try await other.account(ofConversation: "c9") == "a1")
        #expect(try await other.verifyLedger().ok)
        try await importer.close()
        try await other.close()
    }

    @Test("a policy applied while the import was staged: the import is validated again (every account) and lands after it")
    func policyAppliedMeanwhile() async throws {
        let readBack = ReadBack()
        let (importer, other, pause, name) = try await Self.stores(readBack: readBack)
        defer { PostgresTesting.drop(name) }
        try await other.importLines(Lines.optedIn("a1"))
        let lines = [Lines.activity("a1", "a1-new", "2025-09-25T00:00:00Z"), Lines.created("z1", "2025-08-01T00:00:00Z")]
        let importing = pause.task { try await importer.importLines(lines) }
        try await pause.waitUntilStaged()
        _ = try await other.applyPolicy(
            try PolicyDocument(json: #"{"version":"v2","effectiveFrom":"2026-01-01T00:00:00Z"}"#), actor: "test", now: testNow)
        await pause.release()
        let summary = try await importing.value
        #expect(summary.events == 2)
        #expect(await readBack.counts == [2], "every line")
        #expect(try await other.verifyLedger().ok)
        try await importer.close()
        try await other.close()
    }
}
