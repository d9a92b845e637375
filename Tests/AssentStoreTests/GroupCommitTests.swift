import AssentCore
import AssentStore
import Synchronization
import Testing

@Suite("Group commit")
struct GroupCommitTests {
    struct Observed {
        var inFlight: [Int: Set<AccountID>] = [:]
        var next = 0
        var mostAtOnce = 0
        var overlaps = 0
        var committed: [AccountID: [Int64]] = [:]
    }

    static func event(_ account: String, _ k: Int) -> Event {
        Event(account: account, at: Instant(microseconds: Int64(k)), .accountCreated(plan: "free"))
    }

    /// The accounts of each batch committed, in order.
    final class Batches: Sendable {
        let list = Mutex<[[AccountID]]>([])
    }

    /// Makes `group` record each batch and run `during(n)` inside the n-th batch's commit.
    static func recording(_ group: GroupCommit, during: @escaping @Sendable (Int) async -> Void) -> Batches {
        let batches = Batches()
        group.commit = { requests in
            let n = batches.list.withLock { list in
                list.append(requests.flatMap { $0.events.map(\.account) })
                return list.count
            }
            await during(n)
            return Self.answered(requests)
        }
        return batches
    }

    static func answered(_ requests: [GroupCommit.Request]) -> [Result<GroupCommit.Outcome, any Error>] {
        requests.map { _ in .success(GroupCommit.Outcome(records: [], response: nil, replayed: false)) }
    }

    @Test(
        "a request that arrives while a batch is committed goes into a second batch beside it — unless its account is in the first",
        .hangLimit)
    func secondBatchBeside() async throws {
        let group = GroupCommit(concurrency: 2)
        let (firstStarted, firstSignal) = AsyncStream<Void>.makeStream()
        let (secondStarted, secondSignal) = AsyncStream<Void>.makeStream()
        let batches = Self.recording(group) { n in
            if n == 1 {
                firstSignal.yield()
                // Held until the second batch is being committed: both at once.
                for await _ in secondStarted { break }
            } else if n == 2 {
                secondSignal.yield()
            }
        }
        async let first = group.append([Self.event("a", 0)], actor: "test", now: Instant(microseconds: 9))
        for await _ in firstStarted { break }
        // While "a" is being committed: a second request of "a" waits for it; "b" goes beside it.
        async let again = group.append([Self.event("a", 1)], actor: "test", now: Instant(microseconds: 9))
        async let other = group.append([Self.event("b", 0)], actor: "test", now: Instant(microseconds: 9))
        _ = try await (first, again, other)
        #expect(batches.list.withLock { $0 } == [["a"], ["b"], ["a"]])
    }

    @Test("a second batch starts only once enough events wait", .hangLimit)
    func secondBatchThreshold() async throws {
        let group = GroupCommit(concurrency: 2, eventsForAnotherBatch: 3)
        let (firstStarted, firstSignal) = AsyncStream<Void>.makeStream()
        let (release, releaseSignal) = AsyncStream<Void>.makeStream()
        let batches = Self.recording(group) { n in
            if n == 1 {
                firstSignal.yield()
                for await _ in release { break }
            }
        }
        async let first = group.append([Self.event("a", 0)], actor: "test", now: Instant(microseconds: 9))
        for await _ in firstStarted { break }
        // Two events wait: under the threshold, they wait for the first batch's drain.
        async let b = group.append([Self.event("b", 0), Self.event("b", 1)], actor: "test", now: Instant(microseconds: 9))
        // A third: a second batch starts beside the first (which is still held) and takes all three.
        async let c = group.append([Self.event("c", 0)], actor: "test", now: Instant(microseconds: 9))
        try await waitUntil { batches.list.withLock({ $0.count }) >= 2 }
        releaseSignal.yield()
        _ = try await (first, b, c)
        #expect(batches.list.withLock { $0 }.map { Set($0) } == [["a"], ["b", "c"]])
    }

    @Test("under load: never two batches holding one account at once; every request answered; each account's requests in order")
    func underLoad() async throws {
        let group = GroupCommit(concurrency: 2)
        let observed = Mutex(Observed())
        group.commit = { requests in
            let accounts = Set(requests.flatMap { $0.events.map(\.account) })
            let id = observed.withLock { state in
                state.next += 1
                if state.inFlight.values.contains(where: { !$0.isDisjoint(with: accounts) }) { state.overlaps += 1 }
                state.inFlight[state.next] = accounts
                state.mostAtOnce = max(state.mostAtOnce, state.inFlight.count)
                return state.next
            }
            for _ in 0..<Int.random(in: 0...20) { await Task.yield() }
            observed.withLock { state in
                state.inFlight[id] = nil
                for event in requests.flatMap(\.events) { state.committed[event.account, default: []].append(event.at.microseconds) }
            }
            return Self.answered(requests)
        }
        // Each of 8 accounts sends 40 requests, one after another (a user's actions), all 8 at once.
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for a in 0..<8 {
                tasks.addTask {
                    for k in 0..<40 {
                        for _ in 0..<Int.random(in: 0...10) { await Task.yield() }
                        _ = try await group.append([Self.event("a\(a)", k)], actor: "test", now: Instant(microseconds: 100))
                    }
                }
            }
            try await tasks.waitForAll()
        }
        let state = observed.withLock { $0 }
        #expect(state.overlaps == 0, "no account in two batches at once")
        #expect(state.mostAtOnce <= 2)
        #expect(state.inFlight.isEmpty)
        for a in 0..<8 { #expect(state.committed["a\(a)"] == (0..<40).map { Int64($0) }, "a\(a): every request, in order") }
    }

    @Test("with concurrency 1 (SQLite), one batch at a time")
    func oneAtATime() async throws {
        let group = GroupCommit()
        let atOnce = Mutex((now: 0, most: 0))
        group.commit = { requests in
            atOnce.withLock {
                $0.now += 1
                $0.most = max($0.most, $0.now)
            }
            for _ in 0..<20 { await Task.yield() }
            atOnce.withLock { $0.now -= 1 }
            return requests.map { _ in .success(GroupCommit.Outcome(records: [], response: nil, replayed: false)) }
        }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for a in 0..<8 {
                tasks.addTask {
                    for _ in 0..<10 {
                        _ = try await group.append(
                            [Event(account: "a\(a)", at: Instant(microseconds: 0), .accountCreated(plan: "free"))], actor: "test",
                            now: Instant(microseconds: 0))
                    }
                }
            }
            try await tasks.waitForAll()
        }
        #expect(atOnce.withLock { $0.most } == 1)
    }
}
