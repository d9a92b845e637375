public import AssentCore
public import AssentStore
import Foundation
import GRDB

// Runs: immutable manifests with lineage, built off the writer.
//
// A run is evaluated on a read snapshot (WAL gives one), a chunk of accounts at a time; each
// chunk's packed rows are written in a short transaction of their own, invisible (no `runs` row
// names them yet) and still replaceable. Only the last transaction takes the ledger: it checks
// that nothing the run at T could see arrived since the snapshot, then records `run.created`. So
// appends wait at most for one chunk's write, never for the whole evaluation.
extension SQLiteStore {
    /// Accounts one chunk of a run or sweep evaluates.
    static let chunkAccounts = 2_000
    /// Builds tried on a snapshot before one is made under the write lock.
    static let snapshotAttempts = 3

    /// One chunk of a run: the packed rows, the manifest lines in order, counts.
    struct RunChunk: Sendable {
        var rows: [(account: AccountID, items: [UInt8])] = []
        /// The manifest lines in order, UTF-8, each ending with a newline.
        var manifest: [UInt8] = []
        var conversations = 0
        var feedback = 0
        var accounts = 0
        var last: AccountID?
    }

    public func createRun(name: String, at requested: Instant?, purpose: RunPurpose, actor: String, now clockNow: Instant) async throws
        -> RunSummary
    {
        for _ in 0..<Self.snapshotAttempts {
            if let summary = try await buildRunOnSnapshot(name: name, at: requested, purpose: purpose, actor: actor, now: clockNow) {
                return summary
            }
        }
        // Entries that a run at T sees kept arriving while it was built: build it in one transaction.
        return try await writing { db in
            try self.refuseExisting(run: name, db)
            let head = try Self.head(db)
            let (instant, now) = SnapshotInstant.resolve(requested, horizon: head.horizon, now: clockNow)
            try SnapshotInstant.check(instant, for: .run, horizon: head.horizon, now: now)
            try Self.clearBuild(db, name: name)
            let policies = try self.policyHistory(db)
            let evaluator = RunEvaluator(engine: PolicyEngine(policies: policies), at: instant)
            var hasher = ManifestHasher(
                header: ManifestHasher.header(
                    name: name, at: instant, purpose: purpose, ledgerSeq: head.lastSeq, policyVersion: policies.policy(at: instant).version)
            )
            var conversations = 0
            var feedback = 0
            var after: AccountID?
            while true {
                let chunk = try Self.evaluate(db, upTo: head.lastSeq, after: after, limit: Self.chunkAccounts, evaluator: evaluator)
                hasher.add(lines: chunk.manifest)
                try Self.insertRows(db, run: name, chunk.rows)
                conversations += chunk.conversations
                feedback += chunk.feedback
                guard chunk.accounts == Self.chunkAccounts, let last = chunk.last else { break }
                after = last
            }
            return try self.recordRun(
                db, name: name, at: instant, purpose: purpose, actor: actor, now: now, snapshot: head.lastSeq,
                policyVersion: policies.policy(at: instant).version, manifestSha256: hasher.finalize(),
                conversations: conversations, feedback: feedback)
        }
    }

    /// Builds the run on a read snapshot; nil when an entry the run at T would see (or a policy
    /// version) arrived meanwhile, so that the caller tries again.
    private func buildRunOnSnapshot(name: String, at requested: Instant?, purpose: RunPurpose, actor: String, now clockNow: Instant)
        async throws -> RunSummary?
    {
        try await reading { db in try self.refuseExisting(run: name, db) }
        let snapshot: DatabaseSnapshot
        do { snapshot = try pool.makeSnapshot() } catch { throw Self.storeError(error) }
        let (head, policies) = try await snapshotRead(snapshot) { db in (try Self.head(db), try self.policyHistory(db)) }
        let (instant, now) = SnapshotInstant.resolve(requested, horizon: head.horizon, now: clockNow)
        try SnapshotInstant.check(instant, for: .run, horizon: head.horizon, now: now)
        let token = UUID().uuidString
        try await writing { db in
            try self.refuseExisting(run: name, db)
            try Self.clearBuild(db, name: name)
            try db.execute(
                sql: "INSERT INTO run_builds (name, token, started_at) VALUES (?, ?, ?)", arguments: [name, token, now.microseconds])
        }
        do {
            let policyVersion = policies.policy(at: instant).version
            let evaluator = RunEvaluator(engine: PolicyEngine(policies: policies), at: instant)
            var hasher = ManifestHasher(
                header: ManifestHasher.header(
                    name: name, at: instant, purpose: purpose, ledgerSeq: head.lastSeq, policyVersion: policyVersion))
            var conversations = 0
            var feedback = 0
            // A pipeline over the two cores: while chunk k is built into timelines and decided,
            // chunk k + 1 is read on the snapshot and chunk k - 1 is hashed and written.
            @Sendable func read(after: AccountID?) -> Task<AccountsChunk, any Error> {
                Task {
                    try await self.snapshotRead(snapshot) { db in
                        try Self.read(db, upTo: head.lastSeq, after: after, limit: Self.chunkAccounts)
                    }
                }
            }
            var reading: Task<AccountsChunk, any Error>? = read(after: nil)
            var deciding: Task<RunChunk, any Error>?
            defer {
                reading?.cancel()
                deciding?.cancel()
            }
            while reading != nil || deciding != nil {
                var next: Task<RunChunk, any Error>?
                if let task = reading {
                    let accounts = try await task.value
                    reading = accounts.accounts.count == Self.chunkAccounts && accounts.last != nil ? read(after: accounts.last) : nil
                    next = Task { Self.evaluate(accounts, evaluator: evaluator) }
                }
                if let task = deciding {
                    let chunk = try await task.value
                    hasher.add(lines: chunk.manifest)
                    conversations += chunk.conversations
                    feedback += chunk.feedback
                    // In short transactions: an append waits behind one of them at most.
                    for start in stride(from: 0, to: chunk.rows.count, by: max(1, settings.runRowsPerWrite)) {
                        let rows = Array(chunk.rows[start..<min(chunk.rows.count, start + max(1, settings.runRowsPerWrite))])
                        try await writing { db in
                            try Self.holdBuild(db, name: name, token: token)
                            try Self.insertRows(db, run: name, rows)
                        }
                    }
                    await settings.afterRunChunk?()
                }
                deciding = next
            }
            let manifestSha256 = hasher.finalize()
            let done = conversations, doneFeedback = feedback
            return try await writing { db -> RunSummary? in
                try Self.holdBuild(db, name: name, token: token)
                try self.refuseExisting(run: name, db)
                guard try !Self.movedSince(snapshot: head.lastSeq, seenAt: instant, db) else { return nil }
                return try self.recordRun(
                    db, name: name, at: instant, purpose: purpose, actor: actor, now: now, snapshot: head.lastSeq,
                    policyVersion: policyVersion, manifestSha256: manifestSha256, conversations: done, feedback: doneFeedback)
            }
        } catch {
            // Leave no staged rows behind a failed build (best effort: the next build of the
            // name clears them too).
            _ = try? await writing { db in
                if try String.fetchOne(db, sql: "SELECT token FROM run_builds WHERE name = ?", arguments: [name]) == token {
                    try Self.clearBuild(db, name: name)
                }
            }
            throw error
        }
    }

    /// Whether anything a decision at `instant` reads arrived after entry `snapshot`: an account
    /// entry at or before the instant, or a policy version.
    static func movedSince(snapshot: Int64, seenAt instant: Instant, _ db: Database) throws -> Bool {
        try Bool.fetchOne(
            db,
            sql: """
                SELECT EXISTS (SELECT 1 FROM ledger WHERE seq > ? AND ((account IS NOT NULL AND at <= ?) OR kind = ?))
                """, arguments: [snapshot, instant.microseconds, LedgerRecordKind.policyApplied.rawValue]) == true
    }

    /// Reads on the snapshot, with the store's failures.
    func snapshotRead<T: Sendable>(_ snapshot: DatabaseSnapshot, _ body: @Sendable (Database) throws -> T) async throws -> T {
        do { return try await snapshot.read(body) } catch { throw Self.storeError(error) }
    }

    func refuseExisting(run name: String, _ db: Database) throws {
        if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM runs WHERE name = ?)", arguments: [name]) == true {
            throw AssentError.duplicateRun("a run named \(name) already exists")
        }
    }

    /// Forgets an unfinished build of `name` and its staged rows (the run does not exist).
    static func clearBuild(_ db: Database, name: String) throws {
        try db.execute(sql: "DELETE FROM run_accounts WHERE run = ?", arguments: [name])
        try db.execute(sql: "DELETE FROM run_builds WHERE name = ?", arguments: [name])
    }

    /// Checks that this build still owns the name. - Throws: `duplicate_run` when another took it.
    static func holdBuild(_ db: Database, name: String, token: String) throws {
        guard try String.fetchOne(db, sql: "SELECT token FROM run_builds WHERE name = ?", arguments: [name]) == token else {
            throw AssentError.duplicateRun("another run named \(name) is being created")
        }
    }

    /// Evaluates up to `limit` accounts after `after`, as of entry `lastSeq`.
    static func evaluate(_ db: Database, upTo lastSeq: Int64, after: AccountID?, limit: Int, evaluator: RunEvaluator) throws -> RunChunk {
        evaluate(try read(db, upTo: lastSeq, after: after, limit: limit), evaluator: evaluator)
    }

    /// What one chunk of accounts holds as of the snapshot, read and decoded but not yet built
    /// into timelines: the part of a run's work that needs the database.
    struct AccountsChunk: Sendable {
        var accounts: [(account: AccountID, entries: EncodedEntries, hashes: [Int64: String])] = []
        var last: AccountID?
    }

    static func read(_ db: Database, upTo lastSeq: Int64, after: AccountID?, limit: Int) throws -> AccountsChunk {
        var chunk = AccountsChunk()
        chunk.last = try forEachAccount(db, upTo: lastSeq, after: after, limit: limit) { account, entries, hashes in
            chunk.accounts.append((account, entries, hashes))
        }
        return chunk
    }

    /// The run's items of a chunk read: the part of a run's work that needs only the CPU.
    static func evaluate(_ read: AccountsChunk, evaluator: RunEvaluator) -> RunChunk {
        var chunk = RunChunk()
        chunk.last = read.last
        chunk.accounts = read.accounts.count
        for (account, entries, hashes) in read.accounts {
            let items = evaluator.items(for: AccountTimeline(account: account, encoded: entries), contentSha256: { hashes[$0] })
            guard !items.isEmpty else { continue }
            chunk.rows.append((account, RunPack.pack(items)))
            for item in items {
                item.writeManifestLine(to: &chunk.manifest)
                chunk.manifest.append(0x0A)
                if item.kind == .conversation { chunk.conversations += 1 } else { chunk.feedback += 1 }
            }
        }
        return chunk
    }

    static func insertRows(_ db: Database, run name: String, _ rows: [(account: AccountID, items: [UInt8])]) throws {
        let insert = try db.cachedStatement(sql: "INSERT INTO run_accounts (run, account, items) VALUES (?, ?, ?)")
        for row in rows {
            insert.setUncheckedArguments([name, row.account, Data(row.items)])
            try insert.execute()
        }
    }

    /// Records the run: its row and its `run.created` entry. From here its items are immutable.
    func recordRun(
        _ db: Database, name: String, at instant: Instant, purpose: RunPurpose, actor: String, now: Instant, snapshot: Int64,
        policyVersion: String, manifestSha256: String, conversations: Int, feedback: Int
    ) throws -> RunSummary {
        let head = try Self.head(db)
        let ingest = try self.ingest(db, head: head, now: now)
        let summary = RunSummary(
            name: name, at: instant, createdAt: now, purpose: purpose, conversations: conversations, feedback: feedback,
            manifestSha256: manifestSha256, ledgerSeq: snapshot, policyVersion: policyVersion)
        var body = summary.json
        body["ledgerSeq"] = .number(String(snapshot))
        body["policyVersion"] = .string(policyVersion)
        let (record, hash) = ingest.record(.runCreated, at: instant, body: .object(body), actor: actor, movesHorizon: true)
        try Self.insert(record, hash: hash, db: db)
        try db.execute(
            sql: """
                INSERT INTO runs (name, at, created_at, purpose, ledger_seq, policy_version, conversation_count, feedback_count, manifest_sha256, created_seq)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                name, instant.microseconds, now.microseconds, purpose.rawValue, snapshot, policyVersion,
                conversations, feedback, manifestSha256, record.seq,
            ])
        try db.execute(sql: "DELETE FROM run_builds WHERE name = ?", arguments: [name])
        try Self.saveHead(db, ingest: ingest, previous: head)
        return summary
    }

    static let runColumns = "name, at, created_at, purpose, conversation_count, feedback_count, manifest_sha256, ledger_seq, policy_version"

    static func runSummary(_ row: Row) -> RunSummary {
        RunSummary(
            name: row[0], at: Instant(microseconds: row[1]), createdAt: Instant(microseconds: row[2]),
            purpose: RunPurpose(rawValue: row[3]) ?? .modelTraining, conversations: row[4], feedback: row[5],
            manifestSha256: row[6], ledgerSeq: row[7], policyVersion: row[8])
    }

    public func runs() async throws -> [RunSummary] {
        try await reading { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.runColumns) FROM runs ORDER BY created_seq").map(Self.runSummary)
        }
    }

    public func run(named name: String) async throws -> RunSummary {
        try await reading { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(Self.runColumns) FROM runs WHERE name = ?", arguments: [name]) else {
                throw AssentError.unknownRun("no run named \(name)")
            }
            return Self.runSummary(row)
        }
    }

    public func forEachRunItem(run name: String, kind: RunItemKind, _ body: @Sendable (RunItem) throws -> Void) async throws {
        try await reading { db in try Self.forEachItem(db, run: name, kind: kind, body) }
    }

    public func forEachRunItemWithContent(run name: String, kind: RunItemKind, _ body: @Sendable (RunItem, [String?]) throws -> Void)
        async throws
    {
        try await reading { db in
            let content = try db.cachedStatement(sql: "SELECT text FROM content WHERE seq = ?")
            try Self.forEachItem(db, run: name, kind: kind) { item in
                try body(item, try item.entries.map { try String.fetchOne(content, arguments: [$0.seq]) })
            }
        }
    }

    /// A run's items of one kind in manifest order, each line rebuilt from its pack and the
    /// ledger. - Throws: `unknown_run`.
    static func forEachItem(_ db: Database, run name: String, kind: RunItemKind, _ body: (RunItem) throws -> Void) throws {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM runs WHERE name = ?)", arguments: [name]) == true else {
            throw AssentError.unknownRun("no run named \(name)")
        }
        let entry = try entryLookup(db)
        let rows = try Row.fetchCursor(db, sql: "SELECT account, items FROM run_accounts WHERE run = ? ORDER BY account", arguments: [name])
        while let row = try rows.next() {
            let account: String = row[0]
            let packed: Data = row[1]
            for item in try RunPack.unpack(Array(packed)) where item.kind == kind {
                try body(try item.runItem(account: account, entry: entry))
            }
        }
    }

    public func runs(holdingConversation id: ConversationID) async throws -> [String] {
        try await reading { db in
            // A cursor, so that each pack is scanned where SQLite holds it, never copied.
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT r.name, a.items FROM conversations c JOIN run_accounts a ON a.account = c.account
                        JOIN runs r ON r.name = a.run WHERE c.id = ? ORDER BY r.created_seq
                        """), arguments: [id])
            var names: [String] = []
            while let row = try rows.next() {
                let holds = try row.withUnsafeData(atIndex: 1) { data in
                    data?.withUnsafeBytes { RunPack.holdsConversation(id, in: $0) } ?? false
                }
                if holds { names.append(row[0]) }
            }
            return names
        }
    }

    public func lineage(account: AccountID) async throws -> [LineageRun] {
        try await reading { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.name, a.items FROM run_accounts a JOIN runs r ON r.name = a.run
                    WHERE a.account = ? ORDER BY r.created_seq
                    """, arguments: [account])
            return try rows.map { row in
                let packed: Data = row[1]
                var run = LineageRun(name: row[0], conversations: [], feedback: [])
                for item in try RunPack.unpack(Array(packed)) {
                    if item.kind == .conversation { run.conversations.append(item.id) } else { run.feedback.append(item.id) }
                }
                return run
            }
        }
    }
}
