public import AssentCore
public import AssentStore
import Logging
import NIOCore
import PostgresNIO

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
        try await connection.query(
            """
            INSERT INTO ledger (seq, at, actor, kind, account, body, content_sha256, hash, recorded_at, enc)
            VALUES (\(record.seq), \(record.at.microseconds), \(record.actor), \(record.kind), \(record.account), \(record.body),
                \(record.contentSha256), \(ByteBuffer(bytes: hash)), \(wallClockMicros()), NULL)
            """, logger: logger)
    }

    /// Writes an append's accepted events — their ledger rows, stored text, the ids they created
    /// and their accounts' heads — in one statement over arrays: one round trip, where a `COPY`
    /// per table cost one each and waited on the copy protocol's turns (imports, whose files are
    /// large, keep `COPY`). The rows of every table go in together, so the foreign keys to the
    /// ledger are checked once the ledger rows are there (at the end of the statement).
    static func write(_ accepted: [EventIngest.Accepted], _ connection: PostgresConnection, logger: Logger) async throws {
        guard !accepted.isEmpty else { return }
        var ledger = (
            seq: [Int64](), at: [Int64](), actor: [String](), kind: [String](), account: [String](), body: [String](),
            digest: [String](), hash: [ByteBuffer](), enc: [ByteBuffer]()
        )
        var content = (seq: [Int64](), account: [String](), conversation: [String](), feedback: [String](), text: [String]())
        var conversations = (id: [String](), account: [String](), seq: [Int64]())
        var feedback = (id: [String](), account: [String](), conversation: [String](), seq: [Int64]())
        var heads: [String: Int64] = [:]
        for item in accepted {
            let row = EventRow(n: 0, line: 0, accepted: item)
            let record = row.record
            let account = record.account ?? ""
            ledger.seq.append(record.seq)
            ledger.at.append(record.at.microseconds)
            ledger.actor.append(record.actor)
            ledger.kind.append(record.kind)
            ledger.account.append(account)
            ledger.body.append(record.body)
            ledger.digest.append(record.contentSha256 ?? "")
            ledger.hash.append(ByteBuffer(bytes: row.hash))
            ledger.enc.append(ByteBuffer(bytes: row.enc))
            heads[account] = max(heads[account] ?? 0, record.seq)
            if let text = row.content, let conversation = row.conversation {
                content.seq.append(record.seq)
                content.account.append(account)
                content.conversation.append(conversation)
                content.feedback.append(row.feedback ?? "")
                content.text.append(text)
            }
            if let id = row.newConversation {
                conversations.id.append(id)
                conversations.account.append(account)
                conversations.seq.append(record.seq)
            }
            if let id = row.newFeedback, let conversation = row.conversation {
                feedback.id.append(id)
                feedback.account.append(account)
                feedback.conversation.append(conversation)
                feedback.seq.append(record.seq)
            }
        }
        // Account events always name their account, and a content digest or feedback id is never
        // empty: the empty string stands for NULL in the arrays.
        try await connection.query(
            """
            WITH ledger_rows AS (
                INSERT INTO ledger (seq, at, actor, kind, account, body, content_sha256, hash, recorded_at, enc)
                SELECT seq, at, actor, kind, account, body, nullif(digest, ''), hash, \(wallClockMicros()), enc
                FROM unnest(\(ledger.seq)::bigint[], \(ledger.at)::bigint[], \(ledger.actor)::text[], \(ledger.kind)::text[],
                    \(ledger.account)::text[], \(ledger.body)::text[], \(ledger.digest)::text[], \(ledger.hash)::bytea[],
                    \(ledger.enc)::bytea[]) AS r(seq, at, actor, kind, account, body, digest, hash, enc)
            ), content_rows AS (
                INSERT INTO content (seq, account, conversation, feedback, text)
                SELECT seq, account, conversation, nullif(feedback, ''), text
                FROM unnest(\(content.seq)::bigint[], \(content.account)::text[], \(content.conversation)::text[],
                    \(content.feedback)::text[], \(content.text)::text[]) AS r(seq, account, conversation, feedback, text)
            ), conversation_rows AS (
                INSERT INTO conversations (id, account, first_seq)
                SELECT * FROM unnest(\(conversations.id)::text[], \(conversations.account)::text[], \(conversations.seq)::bigint[])
            ), feedback_rows AS (
                INSERT INTO feedback (id, account, conversation, seq)
                SELECT * FROM unnest(\(feedback.id)::text[], \(feedback.account)::text[], \(feedback.conversation)::text[],
                    \(feedback.seq)::bigint[])
            )
            INSERT INTO accounts (account, last_seq) SELECT * FROM unnest(\(Array(heads.keys))::text[], \(Array(heads.values))::bigint[])
            ON CONFLICT (account) DO UPDATE SET last_seq = greatest(accounts.last_seq, excluded.last_seq)
            """, logger: logger)
    }

    /// The owners of these conversations and feedback ids, as the connection sees them.
    static func owners(_ connection: PostgresConnection, conversations: [String], feedback: [String], logger: Logger) async throws -> (
        conversations: [String: AccountID], feedback: [String: AccountID]
    ) {
        var byConversation: [String: AccountID] = [:]
        var byFeedback: [String: AccountID] = [:]
        if !conversations.isEmpty {
            for try await (id, account) in try await connection.query(
                "SELECT id, account FROM conversations WHERE id = ANY(\(conversations))", logger: logger
            ).decode((String, String).self) { byConversation[id] = account }
        }
        if !feedback.isEmpty {
            for try await (id, account) in try await connection.query(
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
    func load(
        _ events: some Collection<Event>, into loader: IngestLoader, ingest: EventIngest?, _ connection: PostgresConnection,
        staged: StagedKeys? = nil
    ) async throws {
        let needs = IngestLoader.Needs(events)
        loader.startChunk()
        var missing: [AccountID] = []
        for account in needs.accounts {
            if let held = ingest?.heldTimeline(of: account) { loader.base[account] = held } else { missing.append(account) }
        }
        for (account, loaded) in try await timelines(connection, accounts: missing, keeping: false) {
            loader.base[account] = loaded.timeline
        }
        var owners = try await Self.owners(
            connection, conversations: Array(needs.conversations), feedback: Array(needs.feedback), logger: logger)
        if let staged {
            try await loadStaged(staged, accounts: missing, needs: needs, into: loader, owners: &owners, connection)
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
            for try await (n, account, enc) in try await connection.query(
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
            for try await (id, account) in try await connection.query(
                """
                SELECT new_conversation, account FROM pg_temp.assent_import_stage
                WHERE new_conversation = ANY(\(conversations))
                """, logger: logger
            ).decode((String, String).self) { owners.conversations[id] = account }
        }
        if !feedback.isEmpty {
            for try await (id, account) in try await connection.query(
                "SELECT new_feedback, account FROM pg_temp.assent_import_stage WHERE new_feedback = ANY(\(feedback))",
                logger: logger
            ).decode((String, String).self) { owners.feedback[id] = account }
        }
    }

    func ingest(policies: PolicyHistory, head: Head, now: Instant?, loader: IngestLoader) -> EventIngest {
        EventIngest(
            policies: policies, now: now, lastSeq: head.lastSeq, lastHash: head.lastHash, loaders: loader.loaders,
            cacheBytes: settings.ingestCacheBytes)
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

    /// Commits a batch of appends in one transaction. The batch's timelines are loaded before the
    /// chain's head is locked; under the lock only the accounts that moved meanwhile are read
    /// again. Each request is validated on its own; a refused one is left out, the others are
    /// written together in one statement per table.
    func commit(_ requests: [GroupCommit.Request]) async throws -> [Result<GroupCommit.Outcome, any Error>] {
        let allEvents = requests.flatMap(\.events)
        let accounts = Array(Set(allEvents.map(\.account)))
        // Warms the committed cache: under the lock, unmoved accounts are then a cache hit.
        _ = try await connection { connection in try await self.timelines(connection, accounts: accounts, keeping: true) }
        let logger = self.logger
        let (results, cache) = try await transaction { connection in
            var head = try await self.lockHead(connection)
            let policies = try await self.policyHistory(connection)
            let loader = IngestLoader()
            try await self.load(allEvents, into: loader, ingest: nil, connection)
            var stored: [IdempotencyKey: (requestSha256: String, response: String, createdAt: Int64)] = [:]
            let keyed = requests.compactMap { $0.idempotency?.0 }
            if !keyed.isEmpty {
                for try await (caller, key, sha, response, created) in try await connection.query(
                    """
                    SELECT caller, key, request_sha256, response, created_at FROM idempotency_keys
                    WHERE (caller, key) IN (SELECT * FROM unnest(\(keyed.map(\.caller))::text[], \(keyed.map(\.key))::text[]))
                    """, logger: logger
                ).decode((String, String, String, String, Int64).self) {
                    stored[IdempotencyKey(caller: caller, key: key)] = (sha, response, created)
                }
            }
            var expired: [IdempotencyKey] = []
            var newKeys: [(IdempotencyKey, String, String, Int64)] = []
            var rows: [EventIngest.Accepted] = []
            var results: [Result<GroupCommit.Outcome, any Error>] = []
            var cache: [(AccountID, Int64, AccountTimeline)] = []
            for request in requests {
                var replay: String?
                if let (idempotency, _) = request.idempotency {
                    let key = IdempotencyKey(caller: idempotency.caller, key: idempotency.key)
                    if let existing = stored[key] {
                        if existing.createdAt < idempotency.notBefore.microseconds {
                            expired.append(key)
                            stored[key] = nil
                        } else if existing.requestSha256 != idempotency.requestSha256 {
                            results.append(
                                .failure(
                                    AssentError.idempotencyConflict("Idempotency-Key \(idempotency.key) was used with another request")))
                            continue
                        } else {
                            replay = existing.response
                        }
                    }
                }
                if let replay {
                    results.append(.success(GroupCommit.Outcome(records: [], response: replay, replayed: true)))
                    continue
                }
                let ingest = self.ingest(policies: policies, head: head, now: request.now, loader: loader)
                defer { self.recordIngest(ingest) }
                do {
                    if request.events.count <= EventIngest.chunkSize { try ingest.prefetch(request.events) }
                    var accepted: [EventIngest.Accepted] = []
                    for (k, event) in request.events.enumerated() {
                        do {
                            accepted.append(try ingest.accept(event, actor: request.actor))
                        } catch let error as AssentError where request.events.count > 1 {
                            throw error.prefixed("event \(k + 1): ")
                        }
                    }
                    for item in accepted { loader.note(item) }
                    rows += accepted
                    head = Head(
                        lastSeq: ingest.nextSeq - 1, lastHash: ingest.previousHash,
                        horizon: ingest.newestInstant.map { max(head.horizon ?? $0, $0) } ?? head.horizon)
                    let records = accepted.map(\.record)
                    var lastSeq: [AccountID: Int64] = [:]
                    for record in records { if let account = record.account { lastSeq[account] = record.seq } }
                    for (account, seq) in lastSeq {
                        if let timeline = ingest.heldTimeline(of: account) { cache.append((account, seq, timeline)) }
                    }
                    var response: String?
                    if let (idempotency, respond) = request.idempotency {
                        let body = respond(records)
                        response = body
                        let key = IdempotencyKey(caller: idempotency.caller, key: idempotency.key)
                        stored[key] = (idempotency.requestSha256, body, request.now.microseconds)
                        newKeys.append((key, idempotency.requestSha256, body, request.now.microseconds))
                    }
                    results.append(.success(GroupCommit.Outcome(records: records, response: response, replayed: false)))
                } catch let error as AssentError {
                    results.append(.failure(error))
                }
            }
            if !expired.isEmpty {
                try await connection.query(
                    """
                    DELETE FROM idempotency_keys WHERE (caller, key) IN
                        (SELECT * FROM unnest(\(expired.map(\.caller))::text[], \(expired.map(\.key))::text[]))
                    """, logger: logger)
            }
            if !rows.isEmpty {
                try await Self.write(rows, connection, logger: logger)
                try await Self.saveHead(head, connection, logger: logger)
            }
            if !newKeys.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO idempotency_keys (caller, key, request_sha256, response, created_at)
                    SELECT * FROM unnest(\(newKeys.map(\.0.caller))::text[], \(newKeys.map(\.0.key))::text[], \(newKeys.map(\.1))::text[],
                        \(newKeys.map(\.2))::text[], \(newKeys.map(\.3))::bigint[])
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            return (results, cache)
        }
        // Committed: the timelines the batch built are now the ledger's.
        for (account, lastSeq, timeline) in cache { timelines.put(account, lastSeq: lastSeq, timeline) }
        return results
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
            try await connection.query(
                """
                INSERT INTO policy_versions (seq, version, effective_from, document)
                VALUES (\(record.seq), \(version.policy.version), \(version.effectiveFrom.microseconds), \(record.body))
                """, logger: logger)
            head.lastSeq = record.seq
            head.lastHash = hash
            try await Self.saveHead(head, connection, logger: logger)
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

        init(_ events: some Collection<Event>) {
            var seen: Set<AccountID> = []
            for event in events {
                if seen.insert(event.account).inserted { accounts.append(event.account) }
                if let conversation = event.conversation { conversations.insert(conversation) }
                if case .feedbackSubmitted(_, let f, _, _) = event.body { feedback.insert(f) }
            }
        }
    }

    /// Timelines as of the chunk's start.
    var base: [AccountID: AccountTimeline] = [:]
    /// Entries accepted since the chunk's start, by account.
    var accepted: [AccountID: [TimelineEntry]] = [:]
    var conversationOwners: [ConversationID: AccountID] = [:]
    var feedbackOwners: [FeedbackID: AccountID] = [:]

    func startChunk() {
        base.removeAll(keepingCapacity: true)
        accepted.removeAll(keepingCapacity: true)
    }

    func note(_ item: EventIngest.Accepted) {
        accepted[item.event.account, default: []].append(TimelineEntry(seq: item.record.seq, event: item.event.withoutContent))
        if let conversation = item.newConversation { conversationOwners[conversation] = item.event.account }
        if let feedback = item.newFeedback { feedbackOwners[feedback] = item.event.account }
    }

    var loaders: EventIngest.Loaders {
        EventIngest.Loaders(
            timelines: { [self] accounts in
                var found: [AccountID: AccountTimeline] = [:]
                for account in accounts {
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
                var conversationsFound: [ConversationID: AccountID] = [:]
                for id in conversations { if let owner = conversationOwners[id] { conversationsFound[id] = owner } }
                var feedbackFound: [FeedbackID: AccountID] = [:]
                for id in feedback { if let owner = feedbackOwners[id] { feedbackFound[id] = owner } }
                return (conversationsFound, feedbackFound)
            })
    }
}
