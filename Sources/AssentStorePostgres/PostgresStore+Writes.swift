public import AssentCore
public import AssentStore
import Logging
import NIOCore
import PostgresNIO
import Synchronization

// Writing events: imports, appends (group commit) and policy versions, each all or nothing.
//
// The ingest validates synchronously while PostgreSQL answers asynchronously, so a writer loads
// what a chunk of events needs first (timelines, id owners: one query each) into an
// ``IngestLoader`` and lets the ingest read from it. A refused request is dropped before anything
// is written: a failed statement would abort the whole transaction.
extension PostgresStore {
    /// Writes one entry that is not an account event (the genesis, a policy version, a run, a
    /// sweep): no `enc`, no account head. Account events go through ``writeEvents(_:_:logger:)``.
    static func insertRecord(_ record: LedgerRecord, hash: [UInt8], _ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.perform(
            """
            INSERT INTO ledger (seq, at, actor, kind, account, body, content_sha256, hash, recorded_at, enc)
            VALUES (\(record.seq), \(record.at.microseconds), \(record.actor), \(record.kind), \(record.account), \(record.body),
                \(record.contentSha256), \(ByteBuffer(bytes: hash)), \(wallClockMicros()), NULL)
            """, logger: logger)
    }

    /// Writes accepted events — their ledger rows, stored text, the ids they created and their
    /// accounts' heads — in one prepared statement over arrays (``WriteRowsStatement``): one round
    /// trip, where a `COPY` per table cost one each and waited on the copy protocol's turns (imports,
    /// whose files are large, keep `COPY`). The rows of every table go in together, so the check
    /// that each row names a ledger entry (once per statement, migration 6) runs once the ledger
    /// rows are there (at the end of the statement).
    static func write(_ accepted: [EventIngest.Accepted], _ connection: PostgresConnection, logger: Logger) async throws {
        guard !accepted.isEmpty else { return }
        let statement = WriteRowsStatement(rows: WriteRows(accepted), now: wallClockMicros())
        for try await _ in try await connection.perform(statement, logger: logger) {}
    }

    /// Writes a plan's rows, queues their webhook deliveries and moves the head to the plan's new
    /// head, in one prepared statement (``AppendWriteStatement``): what ``write(_:_:logger:)`` then
    /// ``saveHead(_:_:logger:)`` do, in one round trip instead of three. Under the chain lock, so
    /// every round trip saved is time the next batch waits less; the rows were bound when the plan
    /// was made.
    static func writeAppend(_ plan: AppendPlan, _ connection: PostgresConnection, logger: Logger) async throws {
        guard let rows = plan.write else { return }
        precondition(plan.isChained, "an append plan is written chained")
        let statement = AppendWriteStatement(rows: rows, head: plan.newHead, now: wallClockMicros())
        for try await _ in try await connection.perform(statement, logger: logger) {}
    }

    /// The owners of these conversations and feedback ids, as the connection sees them.
    static func owners(_ connection: PostgresConnection, conversations: [String], feedback: [String], logger: Logger) async throws -> (
        conversations: [String: AccountID], feedback: [String: AccountID]
    ) {
        var byConversation: [String: AccountID] = [:]
        var byFeedback: [String: AccountID] = [:]
        if !conversations.isEmpty {
            for try await (id, account) in try await connection.perform(
                "SELECT id, account FROM conversations WHERE id = ANY(\(conversations))", logger: logger
            ).decode((String, String).self) { byConversation[id] = account }
        }
        if !feedback.isEmpty {
            for try await (id, account) in try await connection.perform(
                "SELECT id, account FROM feedback WHERE id = ANY(\(feedback))", logger: logger
            ).decode((String, String).self) { byFeedback[id] = account }
        }
        return (byConversation, byFeedback)
    }

    /// Loads into `loader` what accepting `events` needs that `ingest` does not hold (one query
    /// for timelines, one per id kind), as `connection` sees the ledger.
    ///
    /// - Parameter staged: while an import is staged (its events in the temporary stage table,
    ///   not in the ledger), what it staged so far: those events count as written, the `n`-th at
    ///   seq `after + n`.
    /// - Parameter inFlight: the chunk staged last, still being copied to the stage (it is copied
    ///   after these loads run): its entries and ids count as staged too.
    /// - Parameter handingOver: an append's plan: the cached timelines are taken out of the
    ///   store's cache and the loader hands each over to the ingest that asks for it
    ///   (``IngestLoader/handsOver``), so that no copy of a timeline is made while the batch
    ///   extends it.
    func load(
        _ events: some Collection<Event>, into loader: IngestLoader, ingest: EventIngest?, _ connection: PostgresConnection,
        staged: StagedKeys? = nil, inFlight: InFlight? = nil, handingOver: Bool = false, read: ReadHeads? = nil
    ) async throws {
        let needs = IngestLoader.Needs(events, ids: staged != nil || inFlight != nil)
        loader.startChunk()
        loader.handsOver = handingOver
        var missing: [AccountID] = []
        for account in needs.accounts {
            if let held = ingest?.heldTimeline(of: account) { loader.base[account] = held } else { missing.append(account) }
        }
        for (account, loaded) in try await timelines(connection, accounts: missing, keeping: false, taking: handingOver, read: read) {
            loader.base[account] = loaded.timeline
            if handingOver { loader.readLastSeqs[account] = loaded.lastSeq }
        }
        // An id in its event's own account's timeline needs no owner: the ingest asks only for one
        // new to the event's account (``EventIngest/prefetch(_:)``), so it is not asked of the
        // database — an activity of an existing conversation, what a product mostly sends, asks
        // nothing. An id another event of the chunk names from another account is asked for that
        // event.
        var unknownConversations = Set<ConversationID>()
        var unknownFeedback = Set<FeedbackID>()
        for event in events {
            let timeline = loader.base[event.account]
            if let conversation = event.conversation, timeline?.hasConversation(conversation) != true {
                unknownConversations.insert(conversation)
            }
            if let feedback = event.submittedFeedback, timeline?.feedbackConversation[feedback] == nil {
                unknownFeedback.insert(feedback)
            }
        }
        var owners = try await Self.owners(
            connection, conversations: Array(unknownConversations), feedback: Array(unknownFeedback), logger: logger)
        if let staged {
            try await loadStaged(staged, accounts: missing, needs: needs, into: loader, owners: &owners, connection)
        }
        if let inFlight {
            // Staged after what the stage holds: their entries come last.
            for account in missing {
                guard let entries = inFlight.entries[account] else { continue }
                loader.base[account] = AccountTimeline(account: account, entries: (loader.base[account]?.entries ?? []) + entries)
            }
            for id in needs.conversations { if let owner = inFlight.conversations[id] { owners.conversations[id] = owner } }
            for id in needs.feedback { if let owner = inFlight.feedback[id] { owners.feedback[id] = owner } }
        }
        loader.conversationOwners = owners.conversations
        loader.feedbackOwners = owners.feedback
    }

    /// Adds what the import being staged accepted so far: its entries of `accounts` (whose
    /// timelines the ingest no longer holds) and the ids it created.
    private func loadStaged(
        _ keys: StagedKeys, accounts all: [AccountID], needs: IngestLoader.Needs, into loader: IngestLoader,
        owners: inout (conversations: [ConversationID: AccountID], feedback: [FeedbackID: AccountID]), _ connection: PostgresConnection
    ) async throws {
        let stagedAfter = keys.after
        // Only what may have been staged is looked up (most of a chunk is new to the import).
        let accounts = all.filter { keys.mayHold(account: $0) }
        let conversations = Array(needs.conversations.filter { keys.mayHold(conversation: $0) })
        let feedback = Array(needs.feedback.filter { keys.mayHold(feedback: $0) })
        if !accounts.isEmpty {
            var staged: [AccountID: [TimelineEntry]] = [:]
            for try await (n, account, enc) in try await connection.perform(
                "SELECT n, account, enc FROM pg_temp.assent_import_stage WHERE account = ANY(\(accounts)) ORDER BY n", logger: logger
            ).decode((Int64, String, ByteBuffer).self) {
                let seq = stagedAfter + n
                staged[account, default: []].append(
                    TimelineEntry(seq: seq, event: try EventCodec.decode(Array(buffer: enc), account: account, seq: seq)))
            }
            for (account, entries) in staged {
                loader.base[account] = AccountTimeline(account: account, entries: (loader.base[account]?.entries ?? []) + entries)
            }
        }
        if !conversations.isEmpty {
            for try await (id, account) in try await connection.perform(
                """
                SELECT new_conversation, account FROM pg_temp.assent_import_stage
                WHERE new_conversation = ANY(\(conversations))
                """, logger: logger
            ).decode((String, String).self) { owners.conversations[id] = account }
        }
        if !feedback.isEmpty {
            for try await (id, account) in try await connection.perform(
                "SELECT new_feedback, account FROM pg_temp.assent_import_stage WHERE new_feedback = ANY(\(feedback))",
                logger: logger
            ).decode((String, String).self) { owners.feedback[id] = account }
        }
    }

    /// - Parameter unbounded: the ingest keeps every timeline it is given (a plan's: a request's
    ///   accounts, whose timelines the loader held anyway), so it never asks for one twice.
    func ingest(policies: PolicyHistory, head: Head, now: Instant?, loader: IngestLoader, unbounded: Bool = false) -> EventIngest {
        EventIngest(
            policies: policies, now: now, lastSeq: head.lastSeq, lastHash: head.lastHash, loaders: loader.loaders,
            cacheBytes: unbounded ? .max : settings.ingestCacheBytes)
    }

    func recordIngest(_ ingest: EventIngest) {
        let statistics = ingest.cacheStatistics
        ingestStatistics.withLock { $0.accumulate(statistics) }
    }

    // MARK: Appends

    public func append(_ events: [Event], actor: String, now: Instant) async throws -> [LedgerRecord] {
        try await groupCommit.append(events, actor: actor, now: now)
    }

    public func append(
        _ events: [Event], actor: String, now: Instant, idempotency: IdempotentRequest,
        respond: @escaping @Sendable ([LedgerRecord]) -> String
    ) async throws -> AppendOutcome {
        try await groupCommit.append(events, actor: actor, now: now, idempotency: idempotency, respond: respond)
    }

    /// Commits a batch of appends. A batch of at least `planBeforeLockEvents` events is validated
    /// first, outside the chain's lock, against the ledger as it stands (``plan(_:head:_:)``);
    /// then, in one transaction under the lock: when no entry landed meanwhile, the plan is
    /// written as it is; when entries landed but none of the batch's accounts, ids, keys or the
    /// policy moved, its entries are only chained again after the new head; otherwise the batch
    /// is validated again under the lock.
    /// Each request is validated on its own; a refused one is left out, the others are written
    /// together in one statement. Two batches are committed at once (``GroupCommit``) when
    /// enough events wait: one is validated while the other holds the lock. A smaller batch is
    /// validated under the lock.
    func commit(_ requests: [GroupCommit.Request]) async throws -> [Result<GroupCommit.Outcome, any Error>] {
        let logger = self.logger
        let planned: AppendPlan?
        // The plan chained after this store's batches that landed (or are being written) since its
        // head, when none of them touched what the plan read: written as it is if the lock finds
        // the head they leave.
        let prechained: AppendPlan?
        if requests.reduce(0, { $0 + $1.events.count }) >= settings.planBeforeLockEvents {
            // Validated unchained: its entries are hashed once, after the head they will most
            // likely follow (a batch of this store's landing meanwhile, or the plan's own head).
            let plan = try await connection { connection in
                let accounts = Array(Set(requests.flatMap { $0.events.map(\.account) }))
                // Timelines this store's run of writes vouches for need no head, if the ledger's head
                // is still one the run left.
                let run = self.writerRun.current
                // Parted in one pass: each account looked up in the cache once, and not again in `vouched`.
                var vouched = Set<AccountID>()
                var unvouched: [AccountID] = []
                if let run {
                    vouched.reserveCapacity(accounts.count)
                    for account in accounts {
                        if self.timelines.isVouched(account, run: run) { vouched.insert(account) } else { unvouched.append(account) }
                    }
                } else {
                    unvouched = accounts
                }
                let inputs = try await self.planInputs(connection, accounts: unvouched)
                let read = ReadHeads(
                    heads: inputs.accountHeads, vouched: vouched, run: run.flatMap { self.writerRun.run(at: inputs.head) == $0 ? $0 : nil })
                return try await self.plan(requests, head: inputs.head, connection, chaining: false, read: (inputs.newestPolicy, read))
            }
            await settings.afterAppendPlanned?()
            if let (landed, end) = landedBatches.following(plan.head), landed.isDisjoint(with: plan.footprint(of: requests)) {
                // Chained under the lock after the head it finds if that is not `end` (below).
                planned = plan
                prechained = plan.chained(after: end)
            } else {
                planned = plan.chained(after: plan.head)
                prechained = nil
            }
        } else {
            // A few users' choices: validated under the lock, their timelines read before it (under
            // it, unmoved accounts are a cache hit) — cheaper than a plan and its check.
            let accounts = Array(Set(requests.flatMap { $0.events.map(\.account) }))
            _ = try await connection { connection in try await self.timelines(connection, accounts: accounts, keeping: true) }
            planned = nil
            prechained = nil
        }
        // When the lock was taken.
        let locked = Mutex<ContinuousClock.Instant?>(nil)
        // The batch as written under the lock: forgotten if its transaction does not commit.
        let written = Mutex<LandedBatches.Batch?>(nil)
        // The plan tried under the lock (when not the one made before it).
        let attempted = Mutex<AppendPlan?>(nil)
        // The run of this store's writes the batch went on (or began), once written.
        let stamp = Mutex<Int?>(nil)
        let committed: ([Result<GroupCommit.Outcome, any Error>], AppendPlan.Timelines, validatedAfter: Int64, shift: Int64)
        do {
            // The hold ends with the transaction (committed or rolled back), before the timelines are cached.
            defer { if let taken = locked.withLock({ $0 }) { appendHolds.record(seconds: (ContinuousClock.now - taken).inSeconds) } }
            committed = try await transaction { connection in
                let head = try await self.lockHead(connection)
                locked.withLock { $0 = ContinuousClock.now }
                var plan: AppendPlan
                if let planned {
                    plan = planned
                    let headMoved = head.lastSeq != planned.head.lastSeq
                    if let prechained, prechained.head.names(head) {
                        // Only this store's batches landed, and none touched what the plan read.
                        plan = prechained
                        self.planChecks.withLock { $0.prechained += 1 }
                        if try await self.keysMoved(planned, requests: requests, connection) {
                            plan = try await self.plan(requests, head: head, connection)
                        }
                    } else if headMoved || requests.contains(where: { $0.idempotency != nil }) {
                        if try await self.moved(planned, head: head, requests: requests, connection) {
                            plan = try await self.plan(requests, head: head, connection)
                        } else if headMoved {
                            plan = planned.chained(after: head)
                        }
                    }
                    if !plan.isChained {
                        // Neither chained after `end` (that batch did not land) nor moved: the head is the plan's.
                        plan = plan.chained(after: head)
                    }
                } else {
                    plan = try await self.plan(requests, head: head, connection)
                }
                attempted.withLock { $0 = plan }
                if let rows = plan.write {
                    let batch = LandedBatches.Batch(after: head, newHead: plan.newHead, footprint: rows.footprint)
                    self.landedBatches.record(batch)
                    written.withLock { $0 = batch }
                    stamp.withLock { $0 = self.writerRun.extend(after: head, to: plan.newHead) }
                }
                let (results, newKeys) = plan.outcomes(of: requests)
                if !plan.expired.isEmpty {
                    try await connection.perform(
                        """
                        DELETE FROM idempotency_keys WHERE (caller, key) IN
                            (SELECT * FROM unnest(\(plan.expired.map(\.caller))::text[], \(plan.expired.map(\.key))::text[]))
                        """, logger: logger)
                }
                try await Self.writeAppend(plan, connection, logger: logger)
                if !newKeys.isEmpty {
                    try await connection.perform(
                        """
                        INSERT INTO idempotency_keys (caller, key, request_sha256, response, created_at)
                        SELECT * FROM unnest(\(newKeys.map(\.0.caller))::text[], \(newKeys.map(\.0.key))::text[], \(newKeys.map(\.1))::text[],
                            \(newKeys.map(\.2))::text[], \(newKeys.map(\.3))::bigint[])
                        ON CONFLICT DO NOTHING
                        """, logger: logger)
                }
                return (results, plan.timelines, plan.validatedAfter, plan.seqShift)
            }
        } catch {
            if let batch = written.withLock({ $0 }) {
                landedBatches.forget(after: batch.after, newHead: batch.newHead)
                // Whether it committed is unknown: the run's timelines are vouched for no longer.
                writerRun.breakRun()
            }
            // Not committed (a lock or statement timeout, a failed write, the database gone): the
            // timelines the plans took from the cache go back as they were read, instead of being
            // read again.
            planned?.giveBackUncommitted(to: timelines)
            attempted.withLock { $0 }?.giveBackUncommitted(to: timelines)
            throw error
        }
        let (results, built, validatedAfter, shift) = committed
        // Committed: the head this store left, so that a database that loses it is noticed.
        if let batch = written.withLock({ $0 }) { noteCommitted(batch.newHead) }
        // Committed: the timelines the batch built are now the ledger's, once renumbered as its
        // rows were written (in place: the plan held them alone).
        var list = built.take()
        let run = stamp.withLock { $0 }
        while var entry = list.popLast() {
            entry.timeline.shiftSeqs(after: validatedAfter, by: shift)
            timelines.put(entry.account, lastSeq: entry.lastSeq + shift, entry.timeline, run: run)
        }
        return results
    }

    /// What validating a batch decided, as of the ledger's entry `head`.
    struct AppendPlan: Sendable {
        enum Decision: Sendable {
            /// Answered from the stored key's response.
            case replay(String)
            /// The same key as an earlier request of the batch: its response.
            case replayOf(Int)
            case refused(any Error)
            /// Written: these rows of the plan.
            case accepted(Range<Int>)
        }

        var head: Head
        var decisions: [Decision] = []
        /// The accepted events, as validated (their seqs before ``chained(after:)``: ``records(_:)``).
        var rows: [EventIngest.Accepted] = []
        /// How far ``chained(after:)`` moved the rows' seqs.
        var seqShift: Int64 = 0
        /// `rows` bound for writing (nil when there are none), with their final seqs and hashes.
        var write: WriteRows?
        /// The head after the rows (its hash unknown until the plan is chained).
        var newHead: Head
        /// Whether the rows are hashed into the chain (after `head`): a plan made with `chaining:
        /// false` is not, until ``chained(after:)``; only a chained plan is written.
        var isChained = true
        /// The newest instant the rows write (for the horizon).
        var newestInstant: Instant?
        /// Stored keys past their lifetime, deleted before the batch's are written.
        var expired: [IdempotencyKey] = []
        /// The stored keys of the batch's requests the plan saw.
        var seenKeys: Set<IdempotencyKey> = []
        /// The head the rows were validated after: their seqs, and their timelines', start after it.
        var validatedAfter: Int64
        /// The timelines the rows' accounts have with them, each with the account's last entry (seqs
        /// as validated): renumbered by ``seqShift`` and cached once the plan is committed.
        var timelines = Timelines()

        /// A plan's timelines, shared by the plan's copies (as validated, chained after other
        /// batches) so that the one committed takes them unshared and renumbers them in place.
        final class Timelines: Sendable {
            struct Built: Sendable {
                var account: AccountID
                /// The account's last entry in the batch (its seq as validated).
                var lastSeq: Int64
                /// The account's last entry when its timeline was read (nil: it had none).
                var readLastSeq: Int64?
                var timeline: AccountTimeline
            }

            private let list: Mutex<[Built]>

            init(_ list: [Built] = []) { self.list = Mutex(list) }

            /// The timelines, taken out (none are left).
            func take() -> [Built] {
                list.withLock { list in
                    defer { list = [] }
                    return list
                }
            }
        }

        /// Puts the timelines this plan took back in `cache` as they were read — without the
        /// batch's entries, keyed by the accounts' last entries then — when it was not committed.
        func giveBackUncommitted(to cache: TimelineCache) {
            for built in timelines.take() {
                guard let read = built.readLastSeq else { continue }
                cache.put(built.account, lastSeq: read, built.timeline.upTo(seq: validatedAfter))
            }
        }

        /// The plan with its rows chained after `head` instead (nothing it read has moved): only
        /// their hashes are computed again (``WriteRows/chain(after:)``), their records' seqs shifted
        /// when they are read (``records(_:)``).
        func chained(after head: Head) -> AppendPlan {
            var plan = self
            plan.head = head
            plan.isChained = true
            plan.seqShift = head.lastSeq - self.head.lastSeq + seqShift
            let last = plan.write?.chain(after: head) ?? head.lastHash
            plan.newHead = Head(
                lastSeq: head.lastSeq + Int64(rows.count), lastHash: last,
                horizon: newestInstant.map { max(head.horizon ?? $0, $0) } ?? head.horizon)
            // The timelines keep the seqs as validated: renumbered by `seqShift` once committed
            // (only the batch's own entries are after `validatedAfter`), so that they are cached
            // instead of read again on the accounts' next writes.
            return plan
        }

        /// What validating the batch read that another batch may change: the accounts of every
        /// request (accepted or not) and the ids its rows create.
        func footprint(of requests: [GroupCommit.Request]) -> LandedBatches.Footprint {
            LandedBatches.Footprint(
                accounts: requests.flatMap { $0.events.map(\.account) }, conversations: write?.footprint.conversations ?? [],
                feedback: write?.footprint.feedback ?? [])
        }

        /// The records of these rows, at the seqs they are written at.
        func records(_ range: Range<Int>) -> [LedgerRecord] {
            rows[range].map { row in
                var record = row.record
                record.seq += seqShift
                return record
            }
        }

        /// Each request's outcome (responses made from the final entries) and the keys to store.
        func outcomes(of requests: [GroupCommit.Request]) -> (
            [Result<GroupCommit.Outcome, any Error>], [(IdempotencyKey, String, String, Int64)]
        ) {
            var results: [Result<GroupCommit.Outcome, any Error>] = []
            var newKeys: [(IdempotencyKey, String, String, Int64)] = []
            var responses: [Int: String] = [:]
            for (k, request) in requests.enumerated() {
                switch decisions[k] {
                case .replay(let response):
                    results.append(.success(GroupCommit.Outcome(records: [], response: response, replayed: true)))
                case .replayOf(let earlier):
                    results.append(.success(GroupCommit.Outcome(records: [], response: responses[earlier], replayed: true)))
                case .refused(let error):
                    results.append(.failure(error))
                case .accepted(let range):
                    let records = records(range)
                    var response: String?
                    if let (idempotency, respond) = request.idempotency {
                        let body = respond(records)
                        response = body
                        responses[k] = body
                        newKeys.append(
                            (
                                IdempotencyKey(caller: idempotency.caller, key: idempotency.key), idempotency.requestSha256, body,
                                request.now.microseconds
                            ))
                    }
                    results.append(.success(GroupCommit.Outcome(records: records, response: response, replayed: false)))
                }
            }
            return (results, newKeys)
        }
    }

    /// Validates a batch against the ledger as the connection sees it, entries after `head`: the
    /// stored Idempotency-Keys, then each request on its own (what earlier requests of the batch
    /// accepted counts). With `chaining`, the entries are hashed after `head`; without, the
    /// caller chains the plan (``AppendPlan/chained(after:)``) before writing it.
    ///
    /// - Parameter read: the newest policy version's entry and the batch's accounts' heads, when
    ///   read with `head` (``planInputs(_:accounts:)``), with the accounts whose heads were not
    ///   asked for, their timelines vouched for by this store's run of writes (``WriterRun``); nil:
    ///   read here.
    func plan(
        _ requests: [GroupCommit.Request], head: Head, _ connection: PostgresConnection, chaining: Bool = true,
        read: (newestPolicy: Int64, heads: ReadHeads)? = nil
    ) async throws -> AppendPlan {
        let logger = self.logger
        let allEvents = requests.flatMap(\.events)
        let policies: PolicyHistory
        if let read {
            policies = try await self.policyHistory(connection, newest: read.newestPolicy)
        } else {
            policies = try await self.policyHistory(connection)
        }
        let loader = IngestLoader()
        try await self.load(allEvents, into: loader, ingest: nil, connection, handingOver: true, read: read?.heads)
        var stored: [IdempotencyKey: (requestSha256: String, response: String, createdAt: Int64)] = [:]
        let keyed = requests.compactMap { $0.idempotency?.0 }
        if !keyed.isEmpty {
            for try await (caller, key, sha, response, created) in try await connection.perform(
                """
                SELECT caller, key, request_sha256, response, created_at FROM idempotency_keys
                WHERE (caller, key) IN (SELECT * FROM unnest(\(keyed.map(\.caller))::text[], \(keyed.map(\.key))::text[]))
                """, logger: logger
            ).decode((String, String, String, String, Int64).self) {
                stored[IdempotencyKey(caller: caller, key: key)] = (sha, response, created)
            }
        }
        var plan = AppendPlan(head: head, newHead: head, isChained: chaining, validatedAfter: head.lastSeq)
        // Each account's last accepted entry.
        var lastSeqs = [AccountID: Int64](minimumCapacity: allEvents.count)
        plan.seenKeys = Set(stored.keys)
        // Keys first written by a request of this batch: the request and its digest.
        var inBatch: [IdempotencyKey: (request: Int, requestSha256: String)] = [:]
        for (n, request) in requests.enumerated() {
            if let (idempotency, _) = request.idempotency {
                let key = IdempotencyKey(caller: idempotency.caller, key: idempotency.key)
                if let earlier = inBatch[key] {
                    plan.decisions.append(
                        earlier.requestSha256 == idempotency.requestSha256
                            ? .replayOf(earlier.request)
                            : .refused(AssentError.idempotencyConflict("Idempotency-Key \(idempotency.key) was used with another request")))
                    continue
                }
                if let existing = stored[key] {
                    if existing.createdAt < idempotency.notBefore.microseconds {
                        plan.expired.append(key)
                        stored[key] = nil
                    } else if existing.requestSha256 != idempotency.requestSha256 {
                        plan.decisions.append(
                            .refused(AssentError.idempotencyConflict("Idempotency-Key \(idempotency.key) was used with another request")))
                        continue
                    } else {
                        plan.decisions.append(.replay(existing.response))
                        continue
                    }
                }
            }
            let ingest = self.ingest(policies: policies, head: plan.newHead, now: request.now, loader: loader, unbounded: true)
            ingest.chainsEntries = chaining
            defer { self.recordIngest(ingest) }
            let before = plan.newHead.lastSeq
            do {
                if request.events.count <= EventIngest.chunkSize { try ingest.prefetch(request.events) }
                var accepted: [EventIngest.Accepted] = []
                for k in request.events.indices {
                    do {
                        accepted.append(try ingest.accept(request.events[k], actor: request.actor))
                    } catch let error as AssentError where request.events.count > 1 {
                        throw error.prefixed("event \(k + 1): ")
                    }
                }
                // Read in place (an entry copied whole retains each of its strings and arrays).
                for k in accepted.indices { loader.note(accepted[k]) }
                plan.decisions.append(.accepted(plan.rows.count..<(plan.rows.count + accepted.count)))
                plan.rows += accepted
                if let newest = ingest.newestInstant { plan.newestInstant = max(plan.newestInstant ?? newest, newest) }
                plan.newHead = Head(
                    lastSeq: ingest.nextSeq - 1, lastHash: ingest.previousHash,
                    horizon: ingest.newestInstant.map { max(plan.newHead.horizon ?? $0, $0) } ?? plan.newHead.horizon)
                for k in accepted.indices { if let account = accepted[k].record.account { lastSeqs[account] = accepted[k].record.seq } }
                if let (idempotency, _) = request.idempotency {
                    inBatch[IdempotencyKey(caller: idempotency.caller, key: idempotency.key)] = (n, idempotency.requestSha256)
                }
                // The timelines, with what the request added, for the batch's next requests.
                for (account, timeline) in ingest.releaseTimelines() { loader.giveBack(account, timeline) }
            } catch let error as AssentError {
                plan.decisions.append(.refused(error))
                // The timelines as they were before the request (the entries it added dropped).
                for (account, timeline) in ingest.releaseTimelines() {
                    loader.giveBack(account, timeline.upTo(seq: before))
                }
            }
        }
        plan.timelines = AppendPlan.Timelines(
            lastSeqs.compactMap { account, lastSeq in
                loader.base.removeValue(forKey: account).map {
                    AppendPlan.Timelines.Built(account: account, lastSeq: lastSeq, readLastSeq: loader.readLastSeqs[account], timeline: $0)
                }
            })
        // The accounts none of whose requests was accepted (refused, replayed): their timelines,
        // taken from the cache, are as read (a refused request's entries taken out again): cached
        // again now, with the last entry they were read at, whatever becomes of the batch.
        for (account, timeline) in loader.base {
            if let read = loader.readLastSeqs[account] { self.timelines.put(account, lastSeq: read, timeline) }
        }
        loader.base.removeAll()
        if !plan.rows.isEmpty { plan.write = WriteRows(plan.rows) }
        return plan
    }

    /// Whether anything a plan made before the lock read has moved since its head (the lock is
    /// held, at `head`): when entries landed, a policy version applied, an entry of one of the
    /// batch's accounts, an id the batch creates taken — known in memory when only this store's
    /// batches landed (``LandedBatches``), else asked of the database; and, entries or not, a
    /// stored Idempotency-Key of the batch written or removed meanwhile.
    func moved(_ plan: AppendPlan, head: Head, requests: [GroupCommit.Request], _ connection: PostgresConnection) async throws -> Bool {
        if head.lastSeq != plan.head.lastSeq {
            if let landed = landedBatches.footprint(from: plan.head, to: head) {
                // Only this store's batches landed: what they wrote is known.
                planChecks.withLock { $0.inMemory += 1 }
                if !landed.isDisjoint(with: plan.footprint(of: requests)) { return true }
                return try await keysMoved(plan, requests: requests, connection)
            }
            planChecks.withLock { $0.byQuery += 1 }
            let since = plan.head.lastSeq
            let accounts = Array(Set(requests.flatMap { $0.events.map(\.account) }))
            let conversations = plan.rows.compactMap(\.newConversation)
            let feedback = plan.rows.compactMap(\.newFeedback)
            let statement = MovedSinceStatement(since: since, accounts: accounts, conversations: conversations, feedback: feedback)
            var moved: Bool?
            for try await row in try await connection.perform(statement, logger: logger) { moved = row }
            if moved != false { return true }
        }
        return try await keysMoved(plan, requests: requests, connection)
    }

    /// Whether a stored Idempotency-Key of the batch was written or removed since the plan read
    /// the keys (entries landed or not: keys expire outside the lock).
    func keysMoved(_ plan: AppendPlan, requests: [GroupCommit.Request], _ connection: PostgresConnection) async throws -> Bool {
        let keyed = requests.compactMap { $0.idempotency?.0 }
        guard !keyed.isEmpty else { return false }
        var present: Set<IdempotencyKey> = []
        for try await (caller, key) in try await connection.perform(
            """
            SELECT caller, key FROM idempotency_keys
            WHERE (caller, key) IN (SELECT * FROM unnest(\(keyed.map(\.caller))::text[], \(keyed.map(\.key))::text[]))
            """, logger: logger
        ).decode((String, String).self) {
            present.insert(IdempotencyKey(caller: caller, key: key))
        }
        return present != plan.seenKeys
    }

    struct IdempotencyKey: Hashable, Sendable {
        var caller: String
        var key: String
    }

    // MARK: Policy

    public func applyPolicy(_ document: PolicyDocument, actor: String, now: Instant) async throws -> PolicyVersion {
        let logger = self.logger
        return try await transaction { connection in
            var head = try await self.lockHead(connection)
            let (_, version) = try await self.policyHistory(connection).applying(document, horizon: head.horizon)
            let record = LedgerRecord(
                seq: head.lastSeq + 1, at: version.effectiveFrom, actor: actor, kind: LedgerRecordKind.policyApplied.rawValue,
                account: nil, body: version.json.canonicalText, contentSha256: nil)
            let hash = record.chainHash(after: head.lastHash)
            try await Self.insertRecord(record, hash: hash, connection, logger: logger)
            try await connection.perform(
                """
                INSERT INTO policy_versions (seq, version, effective_from, document)
                VALUES (\(record.seq), \(version.policy.version), \(version.effectiveFrom.microseconds), \(record.body))
                """, logger: logger)
            head.lastSeq = record.seq
            head.lastHash = hash
            try await self.moveHead(head, connection)
            return version
        }
    }

    public func deleteIdempotencyKeys(createdBefore instant: Instant) async throws -> Int {
        try await rows(
            "WITH gone AS (DELETE FROM idempotency_keys WHERE created_at < \(instant.microseconds) RETURNING 1) SELECT count(*) FROM gone"
        )
        .first?.decode(Int.self) ?? 0
    }
}

/// What an ingest reads while it validates a chunk: the timelines and id owners loaded for the
/// chunk, plus what the ingest accepted since (so that a timeline it evicted and asks for again
/// comes back with its new entries).
final class IngestLoader: @unchecked Sendable {
    /// Accounts and ids a chunk of events touches.
    struct Needs {
        var accounts: [AccountID] = []
        var conversations: Set<ConversationID> = []
        var feedback: Set<FeedbackID> = []

        /// - Parameter ids: whether the conversation and feedback ids are gathered too (what an
        ///   import's staged events are looked up by; an append's loader asks only for the ids its
        ///   timelines do not know, gathered as it reads them).
        init(_ events: some Collection<Event>, ids: Bool) {
            // Sized for the events up front (grown an insert at a time, a set is hashed again at
            // each doubling).
            var seen = Set<AccountID>(minimumCapacity: events.count)
            accounts.reserveCapacity(events.count)
            if ids { conversations.reserveCapacity(events.count) }
            for event in events {
                if seen.insert(event.account).inserted { accounts.append(event.account) }
                guard ids else { continue }
                if let conversation = event.conversation { conversations.insert(conversation) }
                if let f = event.submittedFeedback { feedback.insert(f) }
            }
        }
    }

    // Used by the one task planning with it, never while an access to it is open: its dynamic
    // exclusivity checks (several per event) are not made.
    /// Timelines as of the chunk's start; when the loader hands them over, as given back.
    @exclusivity(unchecked) var base: [AccountID: AccountTimeline] = [:]
    /// When handing over: the last entry of each account whose timeline was read from the
    /// ledger or the store's cache (an account with no entry has none).
    @exclusivity(unchecked) var readLastSeqs: [AccountID: Int64] = [:]
    /// Entries accepted since the chunk's start, by account (not kept when handing over).
    @exclusivity(unchecked) var accepted: [AccountID: [TimelineEntry]] = [:]
    @exclusivity(unchecked) var conversationOwners: [ConversationID: AccountID] = [:]
    @exclusivity(unchecked) var feedbackOwners: [FeedbackID: AccountID] = [:]
    /// Whether each timeline asked for is handed over — removed from `base`, so that the ingest
    /// holds it alone and extends it without copying — and given back after each request
    /// (``giveBack(_:_:)``), instead of lent with the entries accepted since added. The ingest
    /// must then keep what it is given (an unbounded one): a timeline asked for again before it
    /// is given back is an error.
    var handsOver = false
    /// Accounts whose timeline was handed over and not given back yet.
    @exclusivity(unchecked) private var lent: Set<AccountID> = []

    func startChunk() {
        base.removeAll(keepingCapacity: true)
        readLastSeqs.removeAll(keepingCapacity: true)
        accepted.removeAll(keepingCapacity: true)
        lent.removeAll(keepingCapacity: true)
    }

    /// Takes back a timeline handed over, or made by the ingest for an account that had none.
    func giveBack(_ account: AccountID, _ timeline: AccountTimeline) {
        lent.remove(account)
        base[account] = timeline
    }

    func note(_ item: EventIngest.Accepted) {
        if !handsOver {
            accepted[item.event.account, default: []].append(TimelineEntry(seq: item.record.seq, event: item.event.withoutContent))
        }
        if let conversation = item.newConversation { conversationOwners[conversation] = item.event.account }
        if let feedback = item.newFeedback { feedbackOwners[feedback] = item.event.account }
    }

    var loaders: EventIngest.Loaders {
        EventIngest.Loaders(
            timelines: { [self] accounts in
                var found = [AccountID: AccountTimeline](minimumCapacity: accounts.count)
                for account in accounts {
                    if handsOver {
                        if let timeline = base.removeValue(forKey: account) {
                            found[account] = timeline
                            lent.insert(account)
                        } else if lent.contains(account) {
                            throw StoreError.internal("the timeline of \(account) was asked for again before it was given back")
                        }
                        continue
                    }
                    let added = accepted[account] ?? []
                    if let timeline = base[account] {
                        found[account] = added.isEmpty ? timeline : AccountTimeline(account: account, entries: timeline.entries + added)
                    } else if !added.isEmpty {
                        found[account] = AccountTimeline(account: account, entries: added)
                    }
                }
                return found
            },
            owners: { [self] conversations, feedback in
                // Each asked id looked up (the loader may hold thousands of owners).
                var conversationsFound = [ConversationID: AccountID](minimumCapacity: conversations.count)
                for id in conversations { if let owner = conversationOwners[id] { conversationsFound[id] = owner } }
                var feedbackFound: [FeedbackID: AccountID] = [:]
                for id in feedback { if let owner = feedbackOwners[id] { feedbackFound[id] = owner } }
                return (conversationsFound, feedbackFound)
            })
    }
}
