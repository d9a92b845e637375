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
        private var arrival: CheckedContinuation<Void, Never>?
        private let gate = AsyncGate()

        func staged() async {
            arrived = true
            arrival?.resume()
            arrival = nil
            await gate.wait()
        }

        func waitUntilStaged() async {
            if arrived { return }
            await withCheckedContinuation { arrival = $0 }
        }

        func release() async { await gate.open() }
    }

    /// An importer that pauses once staged, and another store on the same fresh database.
    static func stores() async throws -> (importer: PostgresStore, other: PostgresStore, pause: StagePause, name: String) {
        let (url, name) = try await PostgresTesting.freshDatabase()
        let pause = StagePause()
        var configuration = PostgresStore.Configuration()
        configuration.afterImportStaged = { await pause.staged() }
        let importer = try await PostgresStore.open(url: url, configuration: configuration)
        let other = try await PostgresStore.open(url: url)
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
        let importing = Task { try await importer.importLines(lines) }
        await pause.waitUntilStaged()
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
        let importing = Task { try await importer.importLines(lines) }
        await pause.waitUntilStaged()
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

    @Test("an account that moved while staged but whose lines still hold is imported, after what moved it")
    func movedAccountStillValid() async throws {
        let (importer, other, pause, name) = try await Self.stores()
        defer { PostgresTesting.drop(name) }
        try await other.importLines(Lines.optedIn("a1"))
        let importing = Task { try await importer.importLines([Lines.activity("a1", "a1-new", "2025-09-25T00:00:00Z")]) }
        await pause.waitUntilStaged()
        let choice = try await other.append([Self.choice("a1", at: "2025-09-21T00:00:00Z")], actor: "test", now: testNow)
        await pause.release()
        let summary = try await importing.value
        #expect(try #require(summary.firstSeq) == choice[0].seq + 1)
        #expect(try await other.account(ofConversation: "a1-new") == "a1")
        #expect(try await other.timeline(of: "a1")?.entries.count == Lines.optedIn("a1").count + 2)
        #expect(try await other.verifyLedger().ok)
        try await importer.close()
        try await other.close()
    }

    @Test("a conversation id another account took while the import was staged: the import is refused")
    func idTakenMeanwhile() async throws {
        let (importer, other, pause, name) = try await Self.stores()
        defer { PostgresTesting.drop(name) }
        try await other.importLines(Lines.optedIn("a1") + Lines.optedIn("a2", conversation: "c2"))
        let importing = Task { try await importer.importLines([Lines.activity("a2", "c9", "2025-09-25T00:00:00Z")]) }
        await pause.waitUntilStaged()
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
        let (importer, other, pause, name) = try await Self.stores()
        defer { PostgresTesting.drop(name) }
        try await other.importLines(Lines.optedIn("a1"))
        let lines = [Lines.activity("a1", "a1-new", "2025-09-25T00:00:00Z"), Lines.created("z1", "2025-08-01T00:00:00Z")]
        let importing = Task { try await importer.importLines(lines) }
        await pause.waitUntilStaged()
        _ = try await other.applyPolicy(
            try PolicyDocument(json: #"{"version":"v2","effectiveFrom":"2026-01-01T00:00:00Z"}"#), actor: "test", now: testNow)
        await pause.release()
        let summary = try await importing.value
        #expect(summary.events == 2)
        #expect(try await other.verifyLedger().ok)
        try await importer.close()
        try await other.close()
    }
}
