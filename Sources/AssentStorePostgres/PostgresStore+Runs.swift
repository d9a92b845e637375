public import AssentCore
public import AssentStore
import Logging
import NIOCore
import PostgresNIO

// Runs and sweeps, evaluated on a `REPEATABLE READ READ ONLY` snapshot.
//
// A run's packed rows go into one writing transaction on another connection as the chunks are
// decided (invisible to everyone until it commits); its last statements take the chain's head
// and record `run.created` — unless an account entry at or before T or a policy version arrived
// since the snapshot, when the build is made again (after three tries, under the head lock from
// the start). One build per name at a time: a transaction-scoped advisory lock on the name.
extension PostgresStore {
    static let chunkAccounts = 2_000
    static let snapshotAttempts = 3

    struct RunChunk: Sendable {
        var accounts: [String] = []
        var packs: [ByteBuffer] = []
        /// The manifest lines in order, UTF-8, each ending with a newline.
        var manifest: [UInt8] = []
        var conversations = 0
        var feedback = 0
    }

    struct AccountsChunk: Sendable {
        var accounts: [(account: AccountID, entries: EncodedEntries, hashes: [Int64: String])] = []
        var last: AccountID?
        var count = 0
    }

    static func read(_ connection: PostgresConnection, upTo lastSeq: Int64, after: AccountID?, logger: Logger) async throws -> AccountsChunk
    {
        var chunk = AccountsChunk()
        let (last, count) = try await forEachAccount(connection, upTo: lastSeq, after: after, limit: chunkAccounts, logger: logger) {
            account, entries, hashes in chunk.accounts.append((account, entries, hashes))
        }
        chunk.last = last
        chunk.count = count
        return chunk
    }

    static func evaluate(_ read: AccountsChunk, evaluator: RunEvaluator) -> RunChunk {
        var chunk = RunChunk()
        for (account, entries, hashes) in read.accounts {
            let items = evaluator.items(for: AccountTimeline(account: account, encoded: entries), contentSha256: { hashes[$0] })
            guard !items.isEmpty else { continue }
            chunk.accounts.append(account)
            chunk.packs.append(ByteBuffer(bytes: RunPack.pack(items)))
            for item in items {
                item.writeManifestLine(to: &chunk.manifest)
                chunk.manifest.append(0x0A)
                if item.kind == .conversation { chunk.conversations += 1 } else { chunk.feedback += 1 }
            }
        }
        return chunk
    }

    /// Writes a chunk's run rows with COPY.
    static func insertRows(_ connection: PostgresConnection, run name: String, _ chunk: RunChunk, logger: Logger) async throws {
        guard !chunk.accounts.isEmpty else { return }
        var rows = CopyText(capacity: chunk.packs.reduce(0) { $0 + $1.readableBytes * 2 + 64 })
        for (account, pack) in zip(chunk.accounts, chunk.packs) {
            rows.text(name)
            rows.text(account)
            rows.bytes(pack.readableBytesView)
            rows.endRow()
        }
        try await copy(rows.take(), into: "run_accounts", columns: ["run", "account", "items"], connection, logger: logger)
    }

    /// Whether anything a decision at `instant` reads arrived after entry `snapshot`.
    static func movedSince(snapshot: Int64, seenAt instant: Instant, _ connection: PostgresConnection, logger: Logger) async throws -> Bool
    {
        try await connection.perform(
            """
            SELECT EXISTS (SELECT 1 FROM ledger WHERE seq > \(snapshot)
                AND ((account IS NOT NULL AND at <= \(instant.microseconds)) OR kind = \(LedgerRecordKind.policyApplied.rawValue)))
            """, logger: logger
        ).collect().first?.decode(Bool.self) ?? false
    }

    static func refuseExisting(run name: String, _ connection: PostgresConnection, logger: Logger) async throws {
        if try await connection.perform("SELECT EXISTS (SELECT 1 FROM runs WHERE name = \(name))", logger: logger).collect().first?.decode(
            Bool.self) == true
        {
            throw AssentError.duplicateRun("a run named \(name) already exists")
        }
    }

    /// Takes the name for this transaction. - Throws: `duplicate_run` when another build holds it.
    static func holdName(_ name: String, _ connection: PostgresConnection, logger: Logger) async throws {
        let held = try await connection.perform(
            "SELECT pg_try_advisory_xact_lock(\(runLockSpace)::integer, hashtext(\(name)))", logger: logger
        ).collect().first?.decode(Bool.self)
        guard held == true else { throw AssentError.duplicateRun("another run named \(name) is being created") }
    }

    static let runLockSpace: Int32 = 0x4153_0001
    static let sweepLockSpace: Int32 = 0x4153_0002

    public func createRun(name: String, at instant: Instant?, purpose: RunPurpose, actor: String, now: Instant) async throws -> RunSummary {
        for _ in 0..<Self.snapshotAttempts {
            if let summary = try await buildRun(name: name, at: instant, purpose: purpose, actor: actor, now: now, locked: false) {
                return summary
            }
        }
        // Entries a run at T sees kept arriving: build it under the head lock.
        guard let summary = try await buildRun(name: name, at: instant, purpose: purpose, actor: actor, now: now, locked: true) else {
            throw StoreError.internal("a run built under the head lock saw the ledger move")
        }
        return summary
    }

    /// Builds the run. Unlocked: evaluated on a snapshot while a second connection writes the
    /// rows; nil when the ledger moved under it. Locked: the head is locked first and the same
    /// transaction reads (nothing can move).
    private func buildRun(name: String, at instant: Instant?, purpose: RunPurpose, actor: String, now: Instant, locked: Bool) async throws
        -> RunSummary?
    {
        let hook = settings.afterRunChunk
        do {
            return try await buildRunTransaction(
                name: name, at: instant, purpose: purpose, actor: actor, now: now, locked: locked, hook: hook)
        } catch is RetryBuild {
            return nil
        }
    }

    private func buildRunTransaction(
        name: String, at requested: Instant?, purpose: RunPurpose, actor: String, now clockNow: Instant, locked: Bool,
        hook: (@Sendable () async -> Void)?
    ) async throws -> RunSummary? {
        let logger = self.logger
        return try await transaction { writer in
            try await writer.perform("SET LOCAL statement_timeout = 0", logger: logger)
            try await Self.holdName(name, writer, logger: logger)
            try await Self.refuseExisting(run: name, writer, logger: logger)
            if locked { _ = try await self.lockHead(writer) }
            let body: @Sendable (PostgresConnection) async throws -> RunSummary? = { reader in
                let head = try await Self.head(reader, logger: logger)
                let policies = try await self.policyHistory(reader)
                let (instant, now) = SnapshotInstant.resolve(requested, horizon: head.horizon, now: clockNow)
                try SnapshotInstant.check(instant, for: .run, horizon: head.horizon, now: now)
                let policyVersion = policies.policy(at: instant).version
                let evaluator = RunEvaluator(engine: PolicyEngine(policies: policies), at: instant)
                var hasher = ManifestHasher(
                    header: ManifestHasher.header(
                        name: name, at: instant, purpose: purpose, ledgerSeq: head.lastSeq, policyVersion: policyVersion))
                var conversations = 0
                var feedback = 0
                // Pipelined: chunk k + 1 is read while chunk k is decided and chunk k - 1 written,
                // each on its own (the reader's and the writer's connections, and the CPU).
                var next: AccountsChunk? = try await Self.read(reader, upTo: head.lastSeq, after: nil, logger: logger)
                var deciding: Task<RunChunk, Never>?
                var reading: Task<AccountsChunk, any Error>?
                var writing: Task<Void, any Error>?
                do {
                    while next != nil || deciding != nil {
                        var upcoming: Task<RunChunk, Never>?
                        reading = nil
                        if let chunk = next {
                            upcoming = Task { Self.evaluate(chunk, evaluator: evaluator) }
                            if chunk.count == Self.chunkAccounts, let last = chunk.last {
                                reading = Task { try await Self.read(reader, upTo: head.lastSeq, after: last, logger: logger) }
                            }
                        }
                        if let task = deciding {
                            let chunk = await task.value
                            hasher.add(lines: chunk.manifest)
                            conversations += chunk.conversations
                            feedback += chunk.feedback
                            try await writing?.value
                            writing = Task {
                                try await Self.insertRows(writer, run: name, chunk, logger: logger)
                                await hook?()
                            }
                        }
                        next = try await reading?.value
                        deciding = upcoming
                    }
                    try await writing?.value
                } catch {
                    // The reader's query ends before its transaction does, and the writer's COPY
                    // before the transaction is rolled back.
                    _ = try? await reading?.value
                    _ = try? await writing?.value
                    throw error
                }
                if !locked {
                    guard try await !Self.movedSince(snapshot: head.lastSeq, seenAt: instant, writer, logger: logger) else { return nil }
                }
                return try await self.recordRun(
                    writer, name: name, at: instant, purpose: purpose, actor: actor, now: now, snapshot: head.lastSeq,
                    policyVersion: policyVersion, manifestSha256: hasher.finalize(), conversations: conversations, feedback: feedback)
            }
            if locked { return try await body(writer) }
            // The snapshot's connection; the writer's transaction waits meanwhile.
            let result = try await self.transaction(.snapshot) { reader in
                try await connectionBox(body, reader)
            }
            if result == nil { throw RetryBuild() }
            return result
        }
    }

    /// Records the run: its row and its `run.created` entry, under the head lock.
    func recordRun(
        _ connection: PostgresConnection, name: String, at instant: Instant, purpose: RunPurpose, actor: String, now: Instant,
        snapshot: Int64, policyVersion: String, manifestSha256: String, conversations: Int, feedback: Int
    ) async throws -> RunSummary {
        var head = try await self.lockHead(connection)
        let summary = RunSummary(
            name: name, at: instant, createdAt: now, purpose: purpose, conversations: conversations, feedback: feedback,
            manifestSha256: manifestSha256, ledgerSeq: snapshot, policyVersion: policyVersion)
        var body = summary.json
        body["ledgerSeq"] = .number(String(snapshot))
        body["policyVersion"] = .string(policyVersion)
        let record = LedgerRecord(
            seq: head.lastSeq + 1, at: instant, actor: actor, kind: LedgerRecordKind.runCreated.rawValue, account: nil,
            body: JSONValue.object(body).canonicalText, contentSha256: nil)
        let hash = record.chainHash(after: head.lastHash)
        try await Self.insertRecord(record, hash: hash, connection, logger: logger)
        try await connection.perform(
            """
            INSERT INTO runs (name, at, created_at, purpose, ledger_seq, policy_version, conversation_count, feedback_count, manifest_sha256, created_seq)
            VALUES (\(name), \(instant.microseconds), \(now.microseconds), \(purpose.rawValue), \(snapshot), \(policyVersion),
                \(conversations), \(feedback), \(manifestSha256), \(record.seq))
            """, logger: logger)
        head = Head(lastSeq: record.seq, lastHash: hash, horizon: max(head.horizon ?? instant, instant))
        try await self.moveHead(head, connection)
        return summary
    }

    static let runColumns = "name, at, created_at, purpose, conversation_count, feedback_count, manifest_sha256, ledger_seq, policy_version"

    static func runSummary(_ row: PostgresRow) throws -> RunSummary {
        let (name, at, created, purpose, conversations, feedback, digest, seq, version) = try row.decode(
            (String, Int64, Int64, String, Int, Int, String, Int64, String).self)
        return RunSummary(
            name: name, at: Instant(microseconds: at), createdAt: Instant(microseconds: created),
            purpose: RunPurpose(rawValue: purpose) ?? .modelTraining, conversations: conversations, feedback: feedback,
            manifestSha256: digest, ledgerSeq: seq, policyVersion: version)
    }

    public func runs() async throws -> [RunSummary] {
        try await rows(PostgresQuery(unsafeSQL: "SELECT \(Self.runColumns) FROM runs ORDER BY created_seq")).map(Self.runSummary)
    }

    public func run(named name: String) async throws -> RunSummary {
        var query = PostgresQuery(unsafeSQL: "SELECT \(Self.runColumns) FROM runs WHERE name = $1")
        query.binds.append(name)
        guard let row = try await rows(query).first else { throw AssentError.unknownRun("no run named \(name)") }
        return try Self.runSummary(row)
    }

    public func forEachRunItem(run name: String, kind: RunItemKind, _ body: @Sendable (RunItem) throws -> Void) async throws {
        try await withoutActuallyEscaping(body) { body in
            try await forEachItem(run: name, kind: kind, withContent: false) { item, _ in try body(item) }
        }
    }

    public func forEachRunItemWithContent(run name: String, kind: RunItemKind, _ body: @Sendable (RunItem, [String?]) throws -> Void)
        async throws
    {
        try await withoutActuallyEscaping(body) { body in try await forEachItem(run: name, kind: kind, withContent: true, body) }
    }

    /// A run's items of one kind in manifest order, each line rebuilt from its pack and the
    /// ledger, a batch of accounts at a time (one query for their entries, one for their text).
    private func forEachItem(
        run name: String, kind: RunItemKind, withContent: Bool, _ body: @escaping @Sendable (RunItem, [String?]) throws -> Void
    ) async throws {
        let logger = self.logger
        try await transaction(.snapshot) { connection in
            try await connection.perform("SET LOCAL statement_timeout = 0", logger: logger)
            guard
                try await connection.perform("SELECT EXISTS (SELECT 1 FROM runs WHERE name = \(name))", logger: logger).collect().first?
                    .decode(Bool.self) == true
            else { throw AssentError.unknownRun("no run named \(name)") }
            var batch: [(AccountID, [RunPack.Item])] = []
            // A page of accounts at a time (keyset), each read whole before the next query: one
            // connection cannot stream rows and answer another query at once.
            func flush() async throws {
                let seqs = batch.flatMap { $0.1.flatMap(\.seqs) }
                let entries = try await Self.entries(connection, seqs: seqs, logger: logger)
                var texts: [Int64: String] = [:]
                if withContent, !seqs.isEmpty {
                    for try await (seq, text) in try await connection.perform(
                        "SELECT seq, text FROM content WHERE seq = ANY(\(seqs))", logger: logger
                    ).decode((Int64, String).self) { texts[seq] = text }
                }
                for (account, items) in batch {
                    for item in items {
                        let runItem = try item.runItem(account: account) { seq in
                            guard let entry = entries[seq] else {
                                throw StoreError.corrupt("a run holds ledger entry #\(seq), which the ledger does not")
                            }
                            return entry
                        }
                        try body(runItem, withContent ? runItem.entries.map { texts[$0.seq] } : [])
                    }
                }
                batch.removeAll(keepingCapacity: true)
            }
            var after = ""
            while true {
                let page = try await connection.perform(
                    "SELECT account, items FROM run_accounts WHERE run = \(name) AND account > \(after) ORDER BY account LIMIT 500",
                    logger: logger
                ).collect()
                for row in page {
                    let (account, packed) = try row.decode((String, ByteBuffer).self)
                    batch.append((account, try RunPack.unpack(Array(buffer: packed)).filter { $0.kind == kind }))
                    after = account
                }
                try await flush()
                if page.count < 500 { break }
            }
        }
    }

    public func runs(holdingConversation id: ConversationID) async throws -> [String] {
        let logger = self.logger
        return try await connection { connection in
            var names: [String] = []
            for try await (name, packed) in try await connection.perform(RunsOfConversationOwnerStatement(conversation: id), logger: logger)
            {
                if packed.withUnsafeReadableBytes({ RunPack.holdsConversation(id, in: $0) }) { names.append(name) }
            }
            return names
        }
    }

    public func lineage(account: AccountID) async throws -> [LineageRun] {
        try await rows(
            """
            SELECT r.name, a.items FROM run_accounts a JOIN runs r ON r.name = a.run WHERE a.account = \(account) ORDER BY r.created_seq
            """
        ).map { row in
            let (name, packed) = try row.decode((String, ByteBuffer).self)
            var run = LineageRun(name: name, conversations: [], feedback: [])
            for item in try RunPack.unpack(Array(buffer: packed)) {
                if item.kind == .conversation { run.conversations.append(item.id) } else { run.feedback.append(item.id) }
            }
            return run
        }
    }

    // MARK: Sweeps

    struct PlannedPurge: Sendable {
        var event: Event
        var entries: [(seq: Int64, contentSha256: String?)]
    }

    public func sweep(at instant: Instant?, actor: String, now: Instant) async throws -> SweepResult {
        for attempt in 0...Self.snapshotAttempts {
            if let result = try await sweepOnce(at: instant, actor: actor, now: now, locked: attempt == Self.snapshotAttempts) {
                return result
            }
        }
        throw StoreError.internal("a sweep planned under the head lock saw the ledger move")
    }

    /// Plans on a snapshot (or, `locked`, under the head lock) and records the purges; nil when
    /// the ledger moved under the plan. One sweep at a time (an advisory lock).
    private func sweepOnce(at requested: Instant?, actor: String, now clockNow: Instant, locked: Bool) async throws -> SweepResult? {
        let logger = self.logger
        return try await transaction { writer in
            try await writer.perform("SET LOCAL statement_timeout = 0", logger: logger)
            try await writer.perform("SELECT pg_advisory_xact_lock(\(Self.sweepLockSpace)::integer, 0)", logger: logger)
            if locked { _ = try await self.lockHead(writer) }
            let plan: @Sendable (PostgresConnection) async throws -> (Head, Instant, [PlannedPurge]) = { reader in
                let head = try await Self.head(reader, logger: logger)
                let (instant, now) = SnapshotInstant.resolve(requested, horizon: head.horizon, now: clockNow)
                try SnapshotInstant.check(instant, for: .sweep, horizon: head.horizon, now: now)
                let engine = PolicyEngine(policies: try await self.policyHistory(reader))
                var planned: [PlannedPurge] = []
                var after: AccountID?
                while true {
                    let (last, count) = try await Self.forEachAccount(
                        reader, upTo: head.lastSeq, after: after, limit: Self.chunkAccounts, logger: logger
                    ) { account, entries, hashes in
                        for purge in engine.purges(in: AccountTimeline(account: account, encoded: entries), at: instant) {
                            planned.append(PlannedPurge(event: purge.event, entries: purge.entries.map { ($0.seq, hashes[$0.seq]) }))
                        }
                    }
                    guard count == Self.chunkAccounts, let last else { break }
                    after = last
                }
                return (head, instant, planned)
            }
            let (snapshot, instant, planned) =
                locked ? try await plan(writer) : try await self.transaction(.snapshot) { try await plan($0) }
            if !locked {
                let moved = try await Self.movedSince(snapshot: snapshot.lastSeq, seenAt: instant, writer, logger: logger)
                let swept =
                    try await writer.perform(
                        """
                        SELECT EXISTS (SELECT 1 FROM ledger WHERE seq > \(snapshot.lastSeq) AND kind = \(LedgerRecordKind.sweepCompleted.rawValue))
                        """, logger: logger
                    ).collect().first?.decode(Bool.self) ?? false
                if moved || swept { return nil }
            }
            return try await self.recordPurges(planned, at: instant, actor: actor, writer)
        }
    }

    /// Writes the purges, their tombstones, deletes the text and records `sweep.completed`.
    func recordPurges(_ planned: [PlannedPurge], at instant: Instant, actor: String, _ connection: PostgresConnection) async throws
        -> SweepResult
    {
        var head = try await self.lockHead(connection)
        let loader = IngestLoader()
        let ingest = self.ingest(policies: try await policyHistory(connection), head: head, now: nil, loader: loader)
        defer { recordIngest(ingest) }
        var conversations: [ConversationID] = []
        var feedback: [FeedbackID] = []
        for start in stride(from: 0, to: planned.count, by: EventIngest.chunkSize) {
            let chunk = planned[start..<min(planned.count, start + EventIngest.chunkSize)]
            try await load(chunk.lazy.map(\.event), into: loader, ingest: ingest, connection)
            try ingest.prefetch(chunk.lazy.map(\.event))
            var accepted: [EventIngest.Accepted] = []
            var contentSeqs: [Int64] = [], purgeSeqs: [Int64] = [], accounts: [String] = [], ids: [String] = []
            var feedbackIds: [String] = [], digests: [String] = []
            for purge in chunk {
                let item = try ingest.accept(purge.event, actor: actor)
                loader.note(item)
                accepted.append(item)
                guard case .contentPurged(let conversation, let feedbackID) = purge.event.body else { continue }
                for entry in purge.entries {
                    contentSeqs.append(entry.seq)
                    purgeSeqs.append(item.record.seq)
                    accounts.append(purge.event.account)
                    ids.append(conversation)
                    feedbackIds.append(feedbackID ?? "")
                    digests.append(entry.contentSha256 ?? "")
                }
                if let feedbackID { feedback.append(feedbackID) } else { conversations.append(conversation) }
            }
            try await Self.write(accepted, connection, logger: logger)
            if !contentSeqs.isEmpty {
                try await connection.perform(
                    """
                    INSERT INTO tombstones (content_seq, purge_seq, account, conversation, feedback, content_sha256, had_content, purged_at)
                    SELECT c, p, a, v, NULLIF(f, ''), NULLIF(d, ''), EXISTS (SELECT 1 FROM content WHERE seq = c), \(instant.microseconds)
                    FROM unnest(\(contentSeqs)::bigint[], \(purgeSeqs)::bigint[], \(accounts)::text[], \(ids)::text[],
                        \(feedbackIds)::text[], \(digests)::text[]) AS t(c, p, a, v, f, d)
                    """, logger: logger)
                try await connection.perform("DELETE FROM content WHERE seq = ANY(\(contentSeqs))", logger: logger)
            }
        }
        let body: JSONValue = .object([
            "at": .string(instant.rfc3339),
            "purged": .object(["conversations": .number(String(conversations.count)), "feedback": .number(String(feedback.count))]),
        ])
        let (record, hash) = ingest.record(.sweepCompleted, at: instant, body: body, actor: actor, movesHorizon: true)
        try await Self.insertRecord(record, hash: hash, connection, logger: logger)
        head = Head(
            lastSeq: ingest.nextSeq - 1, lastHash: ingest.previousHash,
            horizon: ingest.newestInstant.map { max(head.horizon ?? $0, $0) } ?? head.horizon)
        try await self.moveHead(head, connection)
        return SweepResult(at: instant, conversations: conversations, feedback: feedback)
    }

    public func lastPurgeSeq() async throws -> Int64 {
        try await rows("SELECT coalesce(max(purge_seq), 0) FROM tombstones").first?.decode(Int64.self) ?? 0
    }
}

/// Thrown inside a run's writing transaction to roll it back when the ledger moved under the
/// snapshot; the caller builds again.
struct RetryBuild: Error {}

/// Calls `body` with `connection` (keeps the closure's type out of the transaction's generic).
@inline(__always)
func connectionBox<T>(_ body: (PostgresConnection) async throws -> T, _ connection: PostgresConnection) async throws -> T {
    try await body(connection)
}
