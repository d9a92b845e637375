import AssentCore
import AssentService
import AssentStore
import Foundation
import Synchronization
import Testing

/// Two store instances on one database, as two servers would hold them: writes from both
/// serialise on the chain, keys and names are unique across them, secrets are shared.
@Suite("Two servers, one database")
struct TwoServersTests {
    static let now = t("2025-10-02T00:00:00Z")

    /// An account that accepted the terms (so that it may choose).
    static func member(_ account: String) -> [String] {
        [Lines.created(account, "2025-07-01T00:00:00Z"), Lines.accepted(account, "2025-09-01T00:00:00Z")]
    }

    static func choice(_ account: String, _ value: ChoiceValue, at: Instant = now) -> Event {
        Event(account: account, at: at, .trainingChoice(value: value, source: .settings, shownDefault: nil))
    }

    @Test("concurrent appends through both instances: all acknowledged, each once, the chain unbroken", arguments: Backend.all)
    func concurrentAppends(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let first = opened.store
            let second = try await opened.reopen()
            let accounts = (0..<6).map { "acct\($0)" }
            try await first.importLines(accounts.flatMap(Self.member))
            let acknowledged = try await withThrowingTaskGroup(of: [LedgerRecord].self) { group in
                for k in 0..<60 {
                    let store = k % 2 == 0 ? first : second
                    // Shared accounts (both instances write them) and one of each instance's own.
                    let account = k % 3 == 0 ? "acct\(k % 2 + 4)" : accounts[k % 4]
                    group.addTask { try await store.append([Self.choice(account, k % 4 == 0 ? .off : .on)], actor: "test", now: Self.now) }
                }
                var all: [LedgerRecord] = []
                for try await records in group { all += records }
                return all
            }
            #expect(acknowledged.count == 60)
            #expect(Set(acknowledged.map(\.seq)).count == 60, "no seq given twice")
            let verification = try await second.verifyLedger()
            #expect(verification.ok, "\(verification)")
            #expect(verification.entries == 1 + 12 + 60)
            for account in accounts {
                let entries = try await first.ledgerEntries(ofAccount: account)
                let mine = acknowledged.filter { $0.account == account }
                #expect(Set(entries.map(\.seq)).isSuperset(of: mine.map(\.seq)))
            }
            try await second.close()
        }
    }

    @Test("one Idempotency-Key sent to both at once: written once, the other answer replays it", arguments: Backend.all)
    func idempotencyAcrossInstances(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let first = opened.store
            let second = try await opened.reopen()
            try await first.importLines(Self.member("a1"))
            let request = IdempotentRequest(caller: "key:events", key: "retry-1", requestSha256: "same-body")
            let outcomes = try await withThrowingTaskGroup(of: AppendOutcome.self) { group in
                for store in [first, second, first, second] {
                    group.addTask {
                        try await store.append([Self.choice("a1", .on)], actor: "test", now: Self.now, idempotency: request) { records in
                            "written as #\(records.map(\.seq).map(String.init).joined(separator: ","))"
                        }
                    }
                }
                var all: [AppendOutcome] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            #expect(outcomes.filter { !$0.replayed }.count == 1)
            #expect(Set(outcomes.map(\.response)).count == 1, "\(outcomes.map(\.response))")
            #expect(try await first.ledgerEntries(ofAccount: "a1").count == 3)
            try await second.close()
        }
    }

    @Test("one run name created through both at once: one run, the other duplicate_run", arguments: Backend.all)
    func runNameAcrossInstances(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let first = opened.store
            let second = try await opened.reopen()
            var lines: [String] = []
            for k in 0..<50 { lines += Lines.optedIn("acct\(k)", conversation: "c\(k)") }
            try await first.importLines(lines)
            let results = await withTaskGroup(of: Result<RunSummary, any Error>.self) { group in
                for store in [first, second] {
                    group.addTask {
                        do {
                            return .success(
                                try await store.createRun(
                                    name: "nightly", at: t("2025-10-01T00:00:00Z"), purpose: .modelTraining, actor: "test", now: Self.now))
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                var all: [Result<RunSummary, any Error>] = []
                for await result in group { all.append(result) }
                return all
            }
            let made = results.compactMap { try? $0.get() }
            #expect(made.count == 1)
            let refusals = results.compactMap { result -> AssentError? in
                if case .failure(let error) = result { return error as? AssentError }
                return nil
            }
            #expect(refusals.map(\.code) == [.duplicateRun], "\(results)")
            #expect(try await second.runs().map(\.name) == ["nightly"])
            #expect(try await second.run(named: "nightly").conversations == 50)
            #expect(try await first.verifyLedger().ok)
            try await second.close()
        }
    }

    @Test("deployment secrets asked for by both at once are one secret", arguments: Backend.all)
    func sharedSecrets(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let second = try await opened.reopen()
            async let a = opened.store.deploymentKey(named: "page-sessions")
            async let b = second.deploymentKey(named: "page-sessions")
            let (first, other) = try await (a, b)
            #expect(first == other)
            #expect(first.count == 32)
            #expect(try await second.deploymentKey(named: "page-sessions") == first)
            try await second.close()
        }
    }

    @Test("ledger verify while the other instance writes: always sound", arguments: Backend.all)
    func verifyWhileWriting(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let writer = opened.store
            let auditor = try await opened.reopen()
            try await writer.importLines((0..<20).flatMap { Self.member("acct\($0)") })
            let done = Mutex(false)
            let writing = Task {
                var k = 0
                while !done.withLock({ $0 }) {
                    _ = try await writer.append([Self.choice("acct\(k % 20)", k % 2 == 0 ? .on : .off)], actor: "test", now: Self.now)
                    k += 1
                }
                return k
            }
            var checks = 0
            for _ in 0..<15 {
                let result = try await auditor.verifyLedger()
                #expect(result.ok, "\(result)")
                checks += 1
            }
            done.withLock { $0 = true }
            let written = try await writing.value
            #expect(checks == 15 && written > 0)
            #expect(try await auditor.verifyLedger().entries == 1 + 40 + written)
            try await auditor.close()
        }
    }

    @Test(
        "a choice stamped by a server whose clock runs behind still sorts after the account's previous entry", arguments: Backend.all)
    func skewedClocks(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let second = try await opened.reopen()
            try await opened.store.importLines(Self.member("a1"))
            let base = t("2025-10-02T00:00:00Z")
            let ahead = AssentApp(store: opened.store, clock: Clock(now: { Instant(microseconds: base.microseconds + 2_000_000) }))
            let behind = AssentApp(store: second, clock: Clock(now: { base }))
            _ = try await ahead.changeTraining(account: "a1", to: .on, actor: "user:a1")
            let recorded = try await behind.changeTraining(account: "a1", to: .off, actor: "user:a1")
            #expect(recorded.at == Instant(microseconds: base.microseconds + 2_000_000), "stamped at the previous entry's instant")
            let timeline = try #require(try await second.timeline(of: "a1"))
            #expect(timeline.choices.last?.value == .off, "the later action is the one in force")
            let later = Instant(microseconds: base.microseconds + 3_000_000)
            #expect(timeline.choice(at: Stamp.endOf(later))?.value == .off)
            try await second.close()
        }
    }

    @Test(
        "a write through one instance is heard by the other where the store announces writes (PostgreSQL), not on SQLite",
        .hangLimit, arguments: Backend.all)
    func writesHeardAcrossInstances(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let listening = opened.store
            let writing = try await opened.reopen()
            try await writing.importLines(Self.member("a1"))
            let (heard, hear) = AsyncStream.makeStream(of: Void.self)
            let watching = listening.watchLedgerWrites { hear.yield() }
            #expect(watching == (backend.name == "PostgreSQL"))
            if watching {
                var signals = heard.makeAsyncIterator()
                // Once when listening starts (what was written before it was not heard) ...
                #expect(await signals.next() != nil)
                // ... then once per committed write of the other instance (the event; no timer).
                _ = try await writing.append([Self.choice("a1", .off)], actor: "test", now: Self.now)
                #expect(await signals.next() != nil)
                _ = try await writing.append([Self.choice("a1", .on)], actor: "test", now: Self.now)
                #expect(await signals.next() != nil)
            }
            try await writing.close()
        }
    }

    @Test(
        "a long poll on one server is woken by another server's write, its timer an hour (PostgreSQL)",
        .hangLimit, arguments: Backend.all.filter { $0.name == "PostgreSQL" })
    func longPollWokenByOtherServer(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let polled = AssentApp(store: opened.store, otherWritersPoll: .seconds(3_600))
            let writing = try await opened.reopen()
            try await writing.importLines(Self.member("a1"))
            #expect(polled.watchOtherWriters())
            // Listening has started once it signals (what was written before was not heard).
            await polled.ledgerWrites.wait(after: 0, timeout: .seconds(600))
            let listening = polled.ledgerWrites.generation
            #expect(listening > 0, "listening signalled once it began")
            let head = try await polled.lastSeq()
            async let page = polled.waitForChanges(after: head, limit: 10, wait: .seconds(30))
            // Write once the poll waits (an event): this server does not write, its timer is an
            // hour, so only the other server's announced write can wake the poll.
            try await waitUntil { polled.ledgerWrites.waiters > 0 }
            _ = try await writing.append([Self.choice("a1", .off)], actor: "test", now: Self.now)
            let answered = try await page
            #expect(answered.changes.map(\.type) == [.trainingChoice])
            #expect(polled.ledgerWrites.generation > listening, "woken by the other server's write")
            try await writing.close()
        }
    }
}

@Suite("Clock skew between servers")
struct ClockSkewTests {
    @Test(
        "a run or sweep asked for 'now' on a server whose clock runs behind is taken at the horizon; an explicit earlier T is still refused",
        arguments: Backend.all)
    func nowBehindTheHorizon(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let second = try await opened.reopen()
            try await opened.store.importLines(TwoServersTests.member("a1") + Lines.optedIn("a2", conversation: "c2"))
            let base = t("2025-10-02T00:00:00Z")
            let aheadClock = Clock(now: { Instant(microseconds: base.microseconds + 2_000_000) })
            let ahead = AssentApp(store: opened.store, clock: aheadClock)
            let behind = AssentApp(store: second, clock: Clock(now: { base }))
            _ = try await ahead.createRun(name: "first", purpose: .modelTraining, actor: "test")
            // Asked explicitly at its own now, before the horizon: refused as the SPEC says.
            await #expect(throws: AssentError.self) {
                _ = try await behind.createRun(name: "explicit", at: base, purpose: .modelTraining, actor: "test")
            }
            let run = try await behind.createRun(name: "second", purpose: .modelTraining, actor: "test")
            #expect(run.at == aheadClock.now(), "taken at the horizon the other server wrote")
            let swept = try await behind.sweep(actor: "test")
            #expect(swept.at == aheadClock.now())
            // A withdrawal on the server behind sorts after the runs it could not be in.
            let recorded = try await behind.changeTraining(account: "a2", to: .off, actor: "user:a2")
            #expect(recorded.at >= run.at)
            try await second.close()
        }
    }
}

@Suite("Shared figures")
struct SharedFiguresTests {
    @Test("the dashboard is computed by one instance under a lease, stored with its entry, and read by the other", arguments: Backend.all)
    func dashboardShared(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let second = try await opened.reopen()
            try await opened.store.importLines(Lines.optedInAndNeverChose)
            let clock = Clock(now: { t("2025-10-02T00:00:00Z") })
            let first = AssentApp(store: opened.store, clock: clock)
            let other = AssentApp(store: second, clock: clock)
            let computed = try await first.sharedDashboard()
            let head = try await second.lastSeq()
            #expect(computed.asOfSeq == head)
            let stored = try #require(try await second.storedFigures(named: Dashboard.figuresName))
            #expect(stored.asOfSeq == head)
            let read = try await other.sharedDashboard()
            #expect(read.storedText == computed.storedText, "the other instance reads the stored figures")
            #expect(read.liveAccounts == 2 && read.conversations == computed.conversations)
            // While one instance holds the lease, the other is refused it (and reads what is stored).
            let holding = AsyncGate()
            let release = AsyncGate()
            let leaseHolder = Task {
                try await opened.store.computeFigures(named: "probe") {
                    await holding.open()
                    await release.wait()
                    return StoredFigures(asOfSeq: head, text: "{}")
                }
            }
            await holding.wait()
            #expect(try await second.computeFigures(named: "probe") { StoredFigures(asOfSeq: head, text: "other") } == nil)
            await release.open()
            #expect(try await leaseHolder.value == StoredFigures(asOfSeq: head, text: "{}"))
            #expect(try await second.computeFigures(named: "probe") { StoredFigures(asOfSeq: head, text: "again") }?.text == "again")
            // Figures older than the stored ones never replace them.
            _ = try await second.computeFigures(named: "probe") { StoredFigures(asOfSeq: head - 1, text: "older") }
            #expect(try await opened.store.storedFigures(named: "probe")?.text == "again")
            try await second.close()
        }
    }

    @Test("figures behind the ledger are served until their next computation is due, then computed again", arguments: Backend.all)
    func paced(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            try await opened.store.importLines(Lines.optedInAndNeverChose)
            let now = Mutex(t("2025-10-02T00:00:00Z"))
            let app = AssentApp(store: opened.store, clock: Clock(now: { now.withLock { $0 } }))
            let pacing = DashboardPacing(intervalSeconds: 5)
            let first = try await app.sharedDashboard(pacing: pacing)
            #expect(first.asOfSeq == (try await opened.store.lastSeq()))
            _ = try await opened.store.append(
                [Event(account: "a1", at: t("2025-10-01T00:00:00Z"), .trainingChoice(value: .off, source: .settings, shownDefault: nil))],
                actor: "test", now: t("2025-10-02T00:00:00Z"))
            let head = try await opened.store.lastSeq()
            let due = pacing.nextComputation(after: first)
            now.withLock { $0 = Instant(microseconds: due.microseconds - 1) }
            #expect(try await app.sharedDashboard(pacing: pacing).asOfSeq == first.asOfSeq, "not due: the stored figures, behind")
            now.withLock { $0 = due }
            #expect(try await app.sharedDashboard(pacing: pacing).asOfSeq == head, "due: computed again")
            #expect(try await opened.store.storedFigures(named: Dashboard.figuresName)?.asOfSeq == head)
        }
    }

    @Test(
        "the next computation: the interval or nine times the last one's duration after it ended, whichever is later",
        arguments: [
            (5, 0, 5_000_000), (5, 2_000_000, 20_000_000), (60, 2_000_000, 62_000_000), (0, 0, 0), (0, 1_000_000, 10_000_000),
            (5, 500_000, 5_500_000),
        ] as [(Int64, Int64, Int64)])
    func nextComputation(interval: Int64, took: Int64, after: Int64) throws {
        var dashboard = try Dashboard(storedText: Self.minimalText)
        dashboard.tookMicros = took
        #expect(
            DashboardPacing(intervalSeconds: interval).nextComputation(after: dashboard).microseconds - dashboard.at.microseconds == after)
    }

    static let minimalText = #"""
        {"asOfSeq":3,"at":"2025-10-02T00:00:00Z","conversations":0,"days":[],"decisionDeadline":"2025-10-08T00:00:00Z","liveAccounts":0,"optInByPlan":[],"pending":0,"retentionByMonth":[],"rolloutStart":"2025-09-28T00:00:00Z"}
        """#

    @Test("stored dashboard figures read back exactly")
    func storedTextRoundTrip() async throws {
        try await withFreshStore(.sqlite) { opened in
            try await opened.store.importLines(Lines.optedInAndNeverChose + [Lines.deferred("a2", "2025-09-05T00:00:00Z")])
            var dashboard = try await AssentApp(store: opened.store, clock: Clock(now: { t("2025-10-02T00:00:00Z") })).dashboard()
            dashboard.tookMicros = 1_234_567
            let read = try Dashboard(storedText: dashboard.storedText)
            #expect(read.tookMicros == 1_234_567)
            #expect(try Dashboard(storedText: Self.minimalText).tookMicros == 0, "figures stored before the duration was kept")
            #expect(read.storedText == dashboard.storedText)
            #expect(read.days == dashboard.days && read.optInByPlan == dashboard.optInByPlan)
            #expect(read.retentionByMonth.map(\.month) == dashboard.retentionByMonth.map(\.month))
            #expect(throws: StoreError.self) { try Dashboard(storedText: "{\"asOfSeq\":1}") }
        }
    }
}

/// A one-shot signal between tasks.
actor AsyncGate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters.removeAll()
    }

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}
