public import AssentCore
import Synchronization

/// Group commit for appends: requests that arrive while a transaction is being written wait
/// for the next one and are committed together, so that many small writes (users' choices) cost
/// one transaction, not one each. A request's answer is given only after its transaction
/// committed, so an acknowledged write survives the process being killed.
public final class GroupCommit: Sendable {
    public struct Request: Sendable {
        public var events: [Event]
        public var actor: String
        public var now: Instant
        public var idempotency: (IdempotentRequest, @Sendable ([LedgerRecord]) -> String)?

        public init(events: [Event], actor: String, now: Instant, idempotency: (IdempotentRequest, @Sendable ([LedgerRecord]) -> String)?) {
            self.events = events
            self.actor = actor
            self.now = now
            self.idempotency = idempotency
        }
    }

    public struct Outcome: Sendable {
        public var records: [LedgerRecord]
        public var response: String?
        public var replayed: Bool
        /// The timelines the request left, with each account's last entry: cached once committed.
        public var timelines: [(AccountID, Int64, AccountTimeline)] = []

        public init(records: [LedgerRecord], response: String?, replayed: Bool, timelines: [(AccountID, Int64, AccountTimeline)] = []) {
            self.records = records
            self.response = response
            self.replayed = replayed
            self.timelines = timelines
        }
    }

    private struct Pending: Sendable {
        var request: Request
        var continuation: CheckedContinuation<Outcome, any Error>
        var accounts: Set<AccountID>
    }

    private struct State {
        var pending: [Pending] = []
        /// The events of `pending`.
        var pendingEvents = 0
        var draining = 0
        /// The accounts of each batch being committed, by drain.
        var inFlight: [Int: Set<AccountID>] = [:]
        var nextDrain = 0
    }

    /// Most requests per transaction: bounds the latency a large batch adds to the first waiter.
    public static let maxBatch = 256

    /// How many batches may be committed at once: 1 where a batch is validated under the
    /// database's write lock (SQLite); more where a batch is validated before it takes the chain's
    /// lock (PostgreSQL), so that one batch is validated while another is written.
    public let concurrency: Int
    /// A batch beside one being committed starts only once this many events wait: a few small
    /// requests are cheaper in the next batch than in a transaction of their own.
    public let eventsForAnotherBatch: Int

    public init(concurrency: Int = 1, eventsForAnotherBatch: Int = 0) {
        precondition(concurrency >= 1)
        self.concurrency = concurrency
        self.eventsForAnotherBatch = eventsForAnotherBatch
    }

    private let state = Mutex(State())
    private let committer = Mutex<(@Sendable ([Request]) async throws -> [Result<Outcome, any Error>])?>(nil)

    /// Writes a batch in one transaction; set once by the store.
    public var commit: @Sendable ([Request]) async throws -> [Result<Outcome, any Error>] {
        get { committer.withLock { $0! } }
        set { committer.withLock { $0 = newValue } }
    }

    /// Appends a batch in the next group commit; returns its ledger entries (what a store's
    /// `append(_:actor:now:)` answers).
    public func append(_ events: [Event], actor: String, now: Instant) async throws -> [LedgerRecord] {
        try await submit(Request(events: events, actor: actor, now: now, idempotency: nil)).records
    }

    /// Appends a batch once per `Idempotency-Key` in the next group commit (what a store's
    /// idempotent `append` answers).
    public func append(
        _ events: [Event], actor: String, now: Instant, idempotency: IdempotentRequest,
        respond: @escaping @Sendable ([LedgerRecord]) -> String
    ) async throws -> AppendOutcome {
        let outcome = try await submit(Request(events: events, actor: actor, now: now, idempotency: (idempotency, respond)))
        return AppendOutcome(response: outcome.response ?? "", replayed: outcome.replayed)
    }

    public func submit(_ request: Request) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { state -> Int? in
                state.pending.append(
                    Pending(request: request, continuation: continuation, accounts: Set(request.events.map(\.account))))
                state.pendingEvents += request.events.count
                if state.draining >= concurrency { return nil }
                if state.draining > 0 && state.pendingEvents < eventsForAnotherBatch { return nil }
                state.draining += 1
                state.nextDrain += 1
                return state.nextDrain
            }
            // At most `concurrency` writer tasks; each awaits the database without holding a thread.
            if let start { Task { await self.drain(start) } }
        }
    }

    /// Commits batches until none is left that it may take. A batch takes requests in arrival
    /// order, passing over one whose accounts another batch being committed holds (and every
    /// later request of those accounts): requests of one account are committed in the order
    /// they arrived, whatever the concurrency.
    private func drain(_ id: Int) async {
        let commit = self.commit
        while true {
            let batch = state.withLock { state -> [Pending] in
                state.inFlight[id] = nil
                // Sized up front: grown one insert at a time, these sets were hashed again at each
                // doubling, under the lock every submitter waits on.
                let batchAccounts = state.pending.prefix(Self.maxBatch).reduce(0) { $0 + $1.accounts.count }
                var blocked = Set<AccountID>(minimumCapacity: state.inFlight.values.reduce(batchAccounts) { $0 + $1.count })
                for accounts in state.inFlight.values { blocked.formUnion(accounts) }
                var taken: [Pending] = []
                var left: [Pending] = []
                var accounts = Set<AccountID>(minimumCapacity: batchAccounts)
                for pending in state.pending {
                    if taken.count < Self.maxBatch && blocked.isDisjoint(with: pending.accounts) {
                        accounts.formUnion(pending.accounts)
                        taken.append(pending)
                    } else {
                        blocked.formUnion(pending.accounts)
                        left.append(pending)
                    }
                }
                if taken.isEmpty {
                    // Nothing, or what is left waits for a batch being committed (whose drain takes it).
                    state.draining -= 1
                    return []
                }
                state.inFlight[id] = accounts
                state.pending = left
                state.pendingEvents -= taken.reduce(0) { $0 + $1.request.events.count }
                return taken
            }
            if batch.isEmpty { return }
            do {
                let results = try await commit(batch.map(\.request))
                for (pending, result) in zip(batch, results) { pending.continuation.resume(with: result) }
            } catch {
                for pending in batch { pending.continuation.resume(throwing: error) }
            }
        }
    }
}

/// Committed account timelines, each with the account's last ledger entry when it was read: a
/// reader compares that number with the ledger's and uses the timeline only when they match.
/// Bounded by the timelines' estimated bytes (least recently used go first).
public final class TimelineCache: Sendable {
    struct Cached: Sendable {
        var lastSeq: Int64
        var timeline: AccountTimeline
        /// The writer's run this timeline was put in, when its writer vouches for it for as long
        /// as that run lasts (nil: a reader compares `lastSeq` with the ledger's).
        var run: Int?
    }

    private let cache: ByteBoundedCache<AccountID, Cached>

    public init(budgetBytes: Int) {
        // A quarter of the budget for one timeline: a heavy account (40,000 sessions, ~22 MB by
        // estimate under the default 154 MiB) stays cached, and three others always fit beside it.
        cache = ByteBoundedCache(name: "timelines", budgetBytes: budgetBytes, maxEntryShare: 0.25) { account, cached in
            account.utf8.count + cached.timeline.estimatedBytes
        }
    }

    public func get(_ account: AccountID, lastSeq: Int64) -> AccountTimeline? {
        // One with another last entry is stale: a miss, left for the next put to replace.
        cache.get(account, if: { $0.lastSeq == lastSeq })?.timeline
    }

    /// Removes and returns the account's timeline when it is cached with this last entry: for a
    /// writer that extends it and puts it back once committed, so that it is not shared (and
    /// copied) while it changes. Until then readers of the account read the ledger.
    public func take(_ account: AccountID, lastSeq: Int64) -> AccountTimeline? {
        cache.take(account, if: { $0.lastSeq == lastSeq })?.timeline
    }

    /// Removes and returns the account's timeline, with its last entry, when it was put in
    /// `run` (``put(_:lastSeq:_:run:)``): a writer that knows the ledger holds nothing of the
    /// account it did not write itself since then takes it without asking for the account's head.
    public func take(_ account: AccountID, run: Int) -> (lastSeq: Int64, timeline: AccountTimeline)? {
        cache.take(account, if: { $0.run == run }).map { ($0.lastSeq, $0.timeline) }
    }

    /// Whether the account's cached timeline was put in `run`, without touching its recency.
    public func isVouched(_ account: AccountID, run: Int) -> Bool { cache.contains(account, where: { $0.run == run }) }

    /// Whether some timeline of the account is cached (current or not), without touching its recency.
    public func holds(_ account: AccountID) -> Bool { cache.contains(account) }

    /// Caches the account's timeline with its last entry. `run`: the writer that just committed
    /// that entry vouches for the timeline for as long as its run of writes lasts (nil: readers
    /// check the account's head).
    public func put(_ account: AccountID, lastSeq: Int64, _ timeline: AccountTimeline, run: Int? = nil) {
        if cache.contains(account, where: { $0.lastSeq > lastSeq }) { return }
        cache.put(account, Cached(lastSeq: lastSeq, timeline: timeline, run: run))
    }

    /// Drops every timeline (the ledger they were read from is not the ledger any more).
    public func removeAll() { cache.removeAll() }

    public var statistics: CacheStatistics { cache.statistics }
}
