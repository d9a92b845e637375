import AssentCore
import AssentService
import AssentStore
import Foundation
import Testing

/// Holds a run's build at its first chunk until the test releases it.
actor BuildPause {
    private var chunks = 0
    private var arrived = false
    private var released = false
    private var arrival: CheckedContinuation<Void, Never>?
    private var hold: CheckedContinuation<Void, Never>?

    /// Called by the store after each chunk: the first one waits for ``release()``.
    func chunkWritten() async {
        chunks += 1
        guard chunks == 1 else { return }
        arrived = true
        arrival?.resume()
        arrival = nil
        if released { return }
        await withCheckedContinuation { hold = $0 }
    }

    func waitForFirstChunk() async {
        if arrived { return }
        await withCheckedContinuation { arrival = $0 }
    }

    func release() {
        released = true
        hold?.resume()
        hold = nil
    }

    var chunksWritten: Int { chunks }
}

/// Runs are built off the writer, on every backend: appends are not held up by a run being built.
@Suite("Runs built off the writer")
struct RunBuildTests {
    /// `accounts` opted-in accounts with `conversations` conversations each.
    static func lines(accounts: Int, conversations: Int) -> [String] {
        var lines: [String] = []
        for a in 0..<accounts {
            let account = String(format: "acct-%05d", a)
            lines.append(Lines.created(account, "2025-07-01T00:00:00Z"))
            lines.append(Lines.accepted(account, "2025-09-01T00:00:00Z"))
            lines.append(Lines.choice(account, "on", "2025-09-01T00:00:00Z"))
            for c in 0..<conversations {
                lines.append(Lines.activity(account, "\(account)-c\(c)", String(format: "2025-09-02T%02d:%02d:00Z", c / 60, c % 60)))
            }
        }
        return lines
    }

    /// A fresh store that pauses runs at their first chunk, holding `accounts` opted-in accounts.
    static func filled(_ backend: Backend, accounts: Int, conversations: Int) async throws -> (BuildPause, OpenedStore, Instant) {
        let pause = BuildPause()
        let opened = try await backend.makePausingRuns { await pause.chunkWritten() }
        let now = t("2025-10-02T00:00:00Z")
        _ = try await opened.store.importEvents(
            lines: ArrayLineSource(lines(accounts: accounts, conversations: conversations)), fileSha256: nil,
            actor: "test", now: now, progress: nil)
        return (pause, opened, now)
    }

    /// The run is held at its first chunk until the appends are done: were appends queued behind
    /// the build, they could not complete while it is held (no timing is asserted here; how fast
    /// they are is the benchmarks' business).
    @Test("appends are acknowledged while a run over 100k conversations is held half built", arguments: Backend.all)
    func appendsDuringABuild(backend: Backend) async throws {
        let (pause, opened, now) = try await Self.filled(backend, accounts: 4_000, conversations: 25)
        defer { opened.cleanup() }
        let store = opened.store
        let build = Task {
            try await store.createRun(name: "big", at: t("2025-10-01T00:00:00Z"), purpose: .modelTraining, actor: "test", now: now)
        }
        await pause.waitForFirstChunk()
        // The run is half built (its first chunk written, the rest not evaluated): appends go through.
        for k in 0..<20 {
            let records = try await store.append(
                [
                    Event(
                        account: String(format: "acct-%05d", k), at: now, .trainingChoice(value: .off, source: .settings, shownDefault: nil)
                    )
                ],
                actor: "test", now: now)
            #expect(records.count == 1)
        }
        #expect(await pause.chunksWritten == 1, "the run was still held at its first chunk")
        #expect(try await store.runs().isEmpty, "the run is not visible before it is recorded")
        await pause.release()
        let run = try await build.value
        #expect(run.conversations == 100_000, "the choices made after T do not change a run at T")
        #expect(await pause.chunksWritten >= 2, "built in chunks")
        #expect(try await store.verifyLedger().ok)
        try await store.close()
    }

    @Test("an entry at or before T that lands during the build is in the run: the build is made again", arguments: Backend.all)
    func backdatedEntryDuringABuild(backend: Backend) async throws {
        let (pause, opened, now) = try await Self.filled(backend, accounts: 3, conversations: 2)
        defer { opened.cleanup() }
        let store = opened.store
        let build = Task {
            try await store.createRun(name: "r", at: t("2025-10-01T00:00:00Z"), purpose: .modelTraining, actor: "test", now: now)
        }
        await pause.waitForFirstChunk()
        // A late-arriving exchange from before T, and a deletion before T.
        _ = try await store.append(
            [
                Event(
                    account: "acct-00001", at: t("2025-09-20T00:00:00Z"),
                    .conversationActivity(conversation: "late", kind: .chat, incognito: false, content: nil)),
                Event(account: "acct-00002", at: t("2025-09-21T00:00:00Z"), .conversationDeleted(conversation: "acct-00002-c0")),
            ], actor: "test", now: now)
        await pause.release()
        let run = try await build.value
        let lineage = try await store.lineage(account: "acct-00001")
        #expect(lineage.first?.conversations.contains("late") == true)
        #expect(try await store.lineage(account: "acct-00002").first?.conversations == ["acct-00002-c1"])
        #expect(run.conversations == 6)
        // The manifest says which ledger state it was evaluated on: one that holds both entries.
        #expect(run.ledgerSeq >= 2 + 3 * 5 + 1)
        #expect(try await AssentApp(store: store).explain(conversation: "late", at: t("2025-10-01T00:00:00Z")).runs == ["r"])
        try await store.close()
    }
}
