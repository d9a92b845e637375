public import AssentCore
public import AssentStore
import Foundation
import GRDB
import Synchronization

/// The embedded default store: one SQLite file in WAL mode, through GRDB.
///
/// Every write runs in one transaction; the rules are the core's, applied through the shared
/// ``EventIngest``, ``RunEvaluator`` and the engine's purges.
public final class SQLiteStore: Store {
    let pool: DatabasePool
    private let policyCache = Mutex<(newestSeq: Int64, history: PolicyHistory)?>(nil)
    private let groupCommit = GroupCommit()
    private let timelines: TimelineCache
    private let settings: Configuration
    /// The ingests' caches, added up (each ingest lives for one transaction).
    private let ingestStatistics: Mutex<CacheStatistics>

    /// Settings of the SQLite store: connections and the memory its caches may hold.
    public struct Configuration: Sendable {
        /// Page cache per connection, in KiB. Default 65,536 (64 MiB): runs and sweeps scan the
        /// ledger. `serve` sets it from `ASSENT_SQLITE_CACHE_MB` (default 16).
        public var cacheKiB = 65_536
        /// Bytes of the file mapped into memory. Default 1 GiB (page cache of the system, not heap).
        public var mmapBytes = 1 << 30
        /// Reader connections at most. Default 4 (`ASSENT_SQLITE_READERS`).
        public var maximumReaders = 4
        /// What committed account timelines kept in memory may hold, by estimate. Default 128 MiB.
        public var timelineCacheBytes = 128 << 20
        /// What one import's or batch's timelines may hold while it runs. Default 64 MiB.
        public var ingestCacheBytes = 64 << 20

        public init() {}
    }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    public init(path: String, configuration: Configuration = Configuration()) throws {
        var config = GRDB.Configuration()
        let connection = configuration
        config.prepareDatabase { db in
            // WAL with synchronous=NORMAL: a committed transaction survives a crash of the
            // process (the kill -9 case); FULL would also survive power loss at some cost.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -\(connection.cacheKiB)")
            try db.execute(sql: "PRAGMA mmap_size = \(connection.mmapBytes)")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // Deleted content is overwritten, not left in free pages (a purge must not survive
            // on disk); the WAL is truncated after a sweep that purged.
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        config.busyMode = .timeout(10)
        config.maximumReaderCount = max(1, configuration.maximumReaders)
        self.settings = configuration
        timelines = TimelineCache(budgetBytes: configuration.timelineCacheBytes)
        ingestStatistics = Mutex(CacheStatistics(name: "ingest", budgetBytes: configuration.ingestCacheBytes))
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw Self.storeError(error, opening: path)
        }
        groupCommit.commit = { [weak self] requests in
            guard let self else { throw StoreError.unavailable("the store is closed") }
            return try await self.commit(requests)
        }
        do {
            try Migrations.migrator.migrate(pool)
            try pool.write { db in try Self.startLedgerIfEmpty(db) }
        } catch {
            throw Self.storeError(error)
        }
    }

    public func close() async throws {
        try pool.close()
    }

    // MARK: Ledger head and policy

    private struct Head {
        var lastSeq: Int64
        var lastHash: [UInt8]
        var horizon: Instant?
    }

    private static func startLedgerIfEmpty(_ db: Database) throws {
        guard try Int.fetchOne(db, sql: "SELECT count(*) FROM ledger_head") == 0 else { return }
        let version = PolicyVersion(policy: .seedDefault, effectiveFrom: .beginningOfTime)
        let record = LedgerRecord(
            seq: 1, at: version.effectiveFrom, actor: "assent", kind: LedgerRecordKind.policyApplied.rawValue,
            account: nil, body: version.json.canonicalText, contentSha256: nil)
        let hash = record.chainHash(after: LedgerChain.genesis)
        try insert(record, hash: hash, db: db)
        try db.execute(
            sql: "INSERT INTO policy_versions (seq, version, effective_from, document) VALUES (?, ?, ?, ?)",
            arguments: [1, version.policy.version, version.effectiveFrom.microseconds, record.body])
        try db.execute(sql: "INSERT INTO ledger_head (id, last_seq, last_hash, horizon) VALUES (1, 1, ?, NULL)", arguments: [Data(hash)])
    }

    private static func head(_ db: Database) throws -> Head {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT last_seq, last_hash, horizon FROM ledger_head WHERE id = 1")) else {
            throw StoreError.corrupt("the database has no ledger head")
        }
        let hash: Data = row[1]
        let horizon: Int64? = row[2]
        return Head(lastSeq: row[0], lastHash: Array(hash), horizon: horizon.map(Instant.init(microseconds:)))
    }

    private static func saveHead(_ db: Database, ingest: EventIngest, previous: Head) throws {
        var horizon = previous.horizon
        if let newest = ingest.newestInstant { horizon = max(horizon ?? newest, newest) }
        try db.cachedStatement(sql: "UPDATE ledger_head SET last_seq = ?, last_hash = ?, horizon = ? WHERE id = 1")
            .execute(arguments: [ingest.nextSeq - 1, Data(ingest.previousHash), horizon?.microseconds])
    }

    private static func insert(_ record: LedgerRecord, hash: [UInt8], db: Database) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO ledger (seq, at, actor, kind, account, body, content_sha256, hash, recorded_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        statement.setUncheckedArguments([
            record.seq, record.at.microseconds, record.actor, record.kind, record.account, record.body,
            record.contentSha256, Data(hash), Self.wallClockMicros(),
        ])
        try statement.execute()
    }

    private static func wallClockMicros() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }

    /// The policy history, parsed once per version applied: every decision reads it, and the
    /// cache stays right because versions are only ever added (the newest seq names the state,
    /// also when another process applied it).
    private func policyHistory(_ db: Database) throws -> PolicyHistory {
        let newest = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(seq) FROM policy_versions")) ?? 0
        if let cached = policyCache.withLock({ $0 }), cached.newestSeq == newest { return cached.history }
        let rows = try Row.fetchAll(db, sql: "SELECT seq, document FROM policy_versions ORDER BY seq")
        let history = PolicyHistory(versions: try rows.map { try LedgerCodec.policyVersion(seq: $0[0], document: $0[1]) })
        policyCache.withLock { $0 = (newest, history) }
        return history
    }

    public func policyHistory() async throws -> PolicyHistory {
        try await reading { db in try self.policyHistory(db) }
    }

    public func horizon() async throws -> Instant? {
        try await reading { db in try Self.head(db).horizon }
    }

    public func applyPolicy(_ document: PolicyDocument, actor: String, now: Instant) async throws -> PolicyVersion {
        try await writing { db in
            let head = try Self.head(db)
            let (_, version) = try self.policyHistory(db).applying(document, horizon: head.horizon)
            let ingest = try self.ingest(db, head: head, now: now)
            let (record, hash) = ingest.record(.policyApplied, at: version.effectiveFrom, body: version.json, actor: actor, movesHorizon: false)
            try Self.insert(record, hash: hash, db: db)
            try db.execute(
                sql: "INSERT INTO policy_versions (seq, version, effective_from, document) VALUES (?, ?, ?, ?)",
                arguments: [record.seq, version.policy.version, version.effectiveFrom.microseconds, record.body])
            try Self.saveHead(db, ingest: ingest, previous: head)
            return version
        }
    }

    // MARK: Timelines

    private func ingest(_ db: Database, head: Head, now: Instant?) throws -> EventIngest {
        let ingest = EventIngest(
            policies: try policyHistory(db), now: now, lastSeq: head.lastSeq, lastHash: head.lastHash,
            loaders: EventIngest.Loaders(
                // Inside a write: what it loads may not commit, so it is not kept.
                timeline: { account in try self.cachedTimeline(db, account: account, keeping: false) },
                ownerOfConversation: { id in
                    try String.fetchOne(db.cachedStatement(sql: "SELECT account FROM conversations WHERE id = ?"), arguments: [id])
                },
                ownerOfFeedback: { id in
                    try String.fetchOne(db.cachedStatement(sql: "SELECT account FROM feedback WHERE id = ?"), arguments: [id])
                }),
            cacheBytes: settings.ingestCacheBytes)
        return ingest
    }

    /// Adds a finished ingest's cache counters to the store's.
    private func recordIngest(_ ingest: EventIngest) {
        let statistics = ingest.cacheStatistics
        ingestStatistics.withLock { $0.accumulate(statistics) }
    }

    public func cacheStatistics() -> [CacheStatistics] {
        [timelines.statistics, ingestStatistics.withLock { $0 }]
    }

    private static func timeline(_ db: Database, account: AccountID) throws -> (timeline: AccountTimeline, hashes: [Int64: String])? {
        let rows = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT seq, body, content_sha256 FROM ledger WHERE account = ? ORDER BY at, seq"), arguments: [account])
        var entries: [TimelineEntry] = []
        var hashes: [Int64: String] = [:]
        while let row = try rows.next() {
            let seq: Int64 = row[0]
            entries.append(TimelineEntry(seq: seq, event: try LedgerCodec.event(seq: seq, body: row[1])))
            if let hash: String = row[2] { hashes[seq] = hash }
        }
        guard !entries.isEmpty else { return nil }
        return (AccountTimeline(account: account, entries: entries), hashes)
    }

    // Reads are always GRDB's async reads: a synchronous read from Swift's cooperative threads
    // can wait for a reader connection held by an async read that needs one of those very threads
    // to run, and the server stops (seen under load; see docs/decisions.md).

    public func timeline(of account: AccountID) async throws -> AccountTimeline? {
        try await reading { db in try self.cachedTimeline(db, account: account, keeping: true) }
    }

    /// The account's timeline, from memory when the ledger holds no newer entry of the account
    /// (checked in the same read, so also right after another process wrote), else from the ledger.
    public func decisionInputs(account: AccountID) async throws -> (timeline: AccountTimeline?, policies: PolicyHistory) {
        try await reading { db in (try self.cachedTimeline(db, account: account, keeping: true), try self.policyHistory(db)) }
    }

    /// - Parameter keeping: whether a timeline loaded here may be kept (only what a read
    ///   transaction sees is known to be committed).
    private func cachedTimeline(_ db: Database, account: AccountID, keeping: Bool) throws -> AccountTimeline? {
        guard let lastSeq = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT max(seq) FROM ledger WHERE account = ?"), arguments: [account])
        else { return nil }
        if let timeline = timelines.get(account, lastSeq: lastSeq) { return timeline }
        let timeline = try Self.timeline(db, account: account)?.timeline
        if keeping, let timeline { timelines.put(account, lastSeq: lastSeq, timeline) }
        return timeline
    }

    public func account(ofConversation id: ConversationID) async throws -> AccountID? {
        try await reading { db in try String.fetchOne(db.cachedStatement(sql: "SELECT account FROM conversations WHERE id = ?"), arguments: [id]) }
    }

    /// Streams every account's timeline in byte order of account ids, as of ledger entry `lastSeq`.
    private static func forEachTimeline(_ db: Database, upTo lastSeq: Int64, _ body: (AccountTimeline, [Int64: String]) throws -> Void) throws {
        let rows = try Row.fetchCursor(db, sql: """
            SELECT account, seq, body, content_sha256 FROM ledger
            WHERE account IS NOT NULL AND seq <= ? ORDER BY account, at, seq
            """, arguments: [lastSeq])
        var current: String?
        var entries: [TimelineEntry] = []
        var hashes: [Int64: String] = [:]
        func flush() throws {
            if let current, !entries.isEmpty {
                try body(AccountTimeline(account: current, entries: entries), hashes)
            }
            entries.removeAll(keepingCapacity: true)
            hashes.removeAll(keepingCapacity: true)
        }
        while let row = try rows.next() {
            let account: String = row[0]
            if account != current {
                try flush()
                current = account
            }
            let seq: Int64 = row[1]
            entries.append(TimelineEntry(seq: seq, event: try LedgerCodec.event(seq: seq, body: row[2])))
            if let hash: String = row[3] { hashes[seq] = hash }
        }
        try flush()
    }

    // MARK: Writing events

    private static func write(_ accepted: EventIngest.Accepted, db: Database) throws {
        try insert(accepted.record, hash: accepted.hash, db: db)
        let event = accepted.event
        if let content = event.content {
            var feedback: String?
            if case .feedbackSubmitted(_, let f, _, _) = event.body { feedback = f }
            let statement = try db.cachedStatement(sql: "INSERT INTO content (seq, account, conversation, feedback, text) VALUES (?, ?, ?, ?, ?)")
            statement.setUncheckedArguments([accepted.record.seq, event.account, event.conversation, feedback, content])
            try statement.execute()
        }
        if let conversation = accepted.newConversation {
            let statement = try db.cachedStatement(sql: "INSERT INTO conversations (id, account, first_seq) VALUES (?, ?, ?)")
            statement.setUncheckedArguments([conversation, event.account, accepted.record.seq])
            try statement.execute()
        }
        if let feedback = accepted.newFeedback, let conversation = event.conversation {
            let statement = try db.cachedStatement(sql: "INSERT INTO feedback (id, account, conversation, seq) VALUES (?, ?, ?, ?)")
            statement.setUncheckedArguments([feedback, event.account, conversation, accepted.record.seq])
            try statement.execute()
        }
    }

    public func importEvents(lines: any LineSource, fileSha256: String?, actor: String, now: Instant,
                             progress: (@Sendable (ImportProgress) -> Void)?) async throws -> ImportSummary {
        // The source is read only inside the one write transaction below, on GRDB's writer queue.
        nonisolated(unsafe) let lines = lines
        return try await writing { db in
            if let fileSha256, let row = try Row.fetchOne(
                db, sql: "SELECT lines, events, first_seq, last_seq FROM imports WHERE file_sha256 = ?", arguments: [fileSha256]) {
                return ImportSummary(lines: row[0], events: row[1], firstSeq: row[2], lastSeq: row[3], alreadyImported: true)
            }
            let head = try Self.head(db)
            let ingest = try self.ingest(db, head: head, now: now)
            defer { self.recordIngest(ingest) }
            var lineNumber = 0
            var events = 0
            while true {
                let next: String?
                do {
                    next = try lines.nextLine()
                } catch let error as AssentError {
                    throw error.prefixed("line \(lineNumber + 1): ")
                }
                guard let line = next else { break }
                lineNumber += 1
                if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
                do {
                    let accepted = try ingest.accept(try Event(jsonLine: line), actor: actor)
                    try Self.write(accepted, db: db)
                } catch let error as AssentError {
                    throw error.prefixed("line \(lineNumber): ")
                }
                events += 1
                if let progress, lineNumber % 10_000 == 0 {
                    progress(ImportProgress(lines: lineNumber, bytesRead: lines.bytesRead, totalBytes: lines.totalBytes))
                }
            }
            try Self.saveHead(db, ingest: ingest, previous: head)
            let firstSeq: Int64? = events > 0 ? head.lastSeq + 1 : nil
            let lastSeq: Int64? = events > 0 ? ingest.nextSeq - 1 : nil
            if let fileSha256 {
                try db.execute(
                    sql: "INSERT INTO imports (file_sha256, first_seq, last_seq, lines, events, imported_at) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [fileSha256, firstSeq, lastSeq, lineNumber, events, Self.wallClockMicros()])
            }
            progress?(ImportProgress(lines: lineNumber, bytesRead: lines.bytesRead, totalBytes: lines.totalBytes))
            return ImportSummary(lines: lineNumber, events: events, firstSeq: firstSeq, lastSeq: lastSeq, alreadyImported: false)
        }
    }

    public func append(_ events: [Event], actor: String, now: Instant) async throws -> [LedgerRecord] {
        let outcome = try await groupCommit.submit(GroupCommit.Request(events: events, actor: actor, now: now, idempotency: nil))
        return outcome.records
    }

    public func append(_ events: [Event], actor: String, now: Instant, idempotency: IdempotentRequest,
                       respond: @escaping @Sendable ([LedgerRecord]) -> String) async throws -> AppendOutcome {
        let outcome = try await groupCommit.submit(
            GroupCommit.Request(events: events, actor: actor, now: now, idempotency: (idempotency, respond)))
        return AppendOutcome(response: outcome.response ?? "", replayed: outcome.replayed)
    }

    /// Applies a batch of appends in one transaction, each in its own savepoint: a refused
    /// request rolls back alone, the others commit together (group commit).
    private func commit(_ requests: [GroupCommit.Request]) async throws -> [Result<GroupCommit.Outcome, any Error>] {
        let results = try await writing { db in
            requests.map { request in
                Result {
                    var outcome = GroupCommit.Outcome(records: [], response: nil, replayed: false)
                    try db.inSavepoint {
                        outcome = try self.apply(request, db: db)
                        return .commit
                    }
                    return outcome
                }
            }
        }
        // Committed: the timelines the batch built are now the ledger's.
        for case .success(let outcome) in results {
            for (account, lastSeq, timeline) in outcome.timelines { timelines.put(account, lastSeq: lastSeq, timeline) }
        }
        return results
    }

    private func apply(_ request: GroupCommit.Request, db: Database) throws -> GroupCommit.Outcome {
        guard let (idempotency, respond) = request.idempotency else {
            let (records, timelines) = try appendKeepingTimelines(request.events, actor: request.actor, now: request.now, db: db)
            return GroupCommit.Outcome(records: records, response: nil, replayed: false, timelines: timelines)
        }
        if let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT request_sha256, response, created_at FROM idempotency_keys WHERE caller = ? AND key = ?"),
            arguments: [idempotency.caller, idempotency.key]) {
            if (row[2] as Int64) < idempotency.notBefore.microseconds {
                // Expired: the key starts over.
                try db.execute(sql: "DELETE FROM idempotency_keys WHERE caller = ? AND key = ?", arguments: [idempotency.caller, idempotency.key])
            } else {
                guard row[0] as String == idempotency.requestSha256 else {
                    throw AssentError.idempotencyConflict("Idempotency-Key \(idempotency.key) was used with another request")
                }
                return GroupCommit.Outcome(records: [], response: row[1], replayed: true)
            }
        }
        let (records, timelines) = try appendKeepingTimelines(request.events, actor: request.actor, now: request.now, db: db)
        let response = respond(records)
        try db.execute(
            sql: "INSERT INTO idempotency_keys (caller, key, request_sha256, response, created_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [idempotency.caller, idempotency.key, idempotency.requestSha256, response, request.now.microseconds])
        return GroupCommit.Outcome(records: records, response: response, replayed: false, timelines: timelines)
    }

    private func append(_ events: [Event], actor: String, now: Instant, db: Database) throws -> [LedgerRecord] {
        try appendKeepingTimelines(events, actor: actor, now: now, db: db).records
    }

    private func appendKeepingTimelines(_ events: [Event], actor: String, now: Instant, db: Database) throws
        -> (records: [LedgerRecord], timelines: [(AccountID, Int64, AccountTimeline)]) {
        let head = try Self.head(db)
        let ingest = try self.ingest(db, head: head, now: now)
        defer { self.recordIngest(ingest) }
        var records: [LedgerRecord] = []
        for (k, event) in events.enumerated() {
            do {
                let accepted = try ingest.accept(event, actor: actor)
                try Self.write(accepted, db: db)
                records.append(accepted.record)
            } catch let error as AssentError where events.count > 1 {
                throw error.prefixed("event \(k + 1): ")
            }
        }
        try Self.saveHead(db, ingest: ingest, previous: head)
        var lastSeq: [AccountID: Int64] = [:]
        for record in records { if let account = record.account { lastSeq[account] = record.seq } }
        let timelines = lastSeq.compactMap { account, seq in ingest.heldTimeline(of: account).map { (account, seq, $0) } }
        return (records, timelines)
    }

    public func ledgerEntries(ofAccount account: AccountID) async throws -> [LedgerRecord] {
        try await reading { db in
            try Row.fetchAll(
                db, sql: "SELECT seq, at, actor, kind, account, body, content_sha256 FROM ledger WHERE account = ? ORDER BY seq",
                arguments: [account]
            ).map { row in
                LedgerRecord(seq: row[0], at: Instant(microseconds: row[1]), actor: row[2], kind: row[3], account: row[4], body: row[5], contentSha256: row[6])
            }
        }
    }

    public func lastSeq() async throws -> Int64 {
        try await reading { db in try Self.head(db).lastSeq }
    }

    public func forEachTimeline(_ body: @Sendable (AccountTimeline) throws -> Void) async throws {
        try await reading { db in
            try Self.forEachTimeline(db, upTo: try Self.head(db).lastSeq) { timeline, _ in try body(timeline) }
        }
    }

    // MARK: Service keys

    private static func serviceKey(_ row: Row) throws -> ServiceKey {
        let scopes = try (row["scopes"] as String).split(separator: " ").map { try ServiceScope.parse(String($0)) }
        return ServiceKey(
            name: row["name"], secretSha256: row["secret_sha256"], scopes: Set(scopes),
            createdAt: Instant(microseconds: row["created_at"]), revokedAt: (row["revoked_at"] as Int64?).map(Instant.init(microseconds:)))
    }

    public func createServiceKey(_ key: ServiceKey) async throws {
        try await writing { db in
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM service_keys WHERE name = ?", arguments: [key.name]) == 0 else {
                throw AssentError.duplicateKey("a key named \(key.name) exists already")
            }
            try db.execute(
                sql: "INSERT INTO service_keys (name, secret_sha256, scopes, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [key.name, key.secretSha256, key.scopes.sorted().map(\.rawValue).joined(separator: " "),
                            key.createdAt.microseconds, key.revokedAt?.microseconds])
        }
    }

    public func serviceKeys() async throws -> [ServiceKey] {
        try await reading { db in try Row.fetchAll(db, sql: "SELECT * FROM service_keys ORDER BY name").map(Self.serviceKey) }
    }

    public func revokeServiceKey(named name: String, now: Instant) async throws -> ServiceKey {
        try await writing { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM service_keys WHERE name = ?", arguments: [name]) else {
                throw AssentError.unknownKey("no key is named \(name)")
            }
            var key = try Self.serviceKey(row)
            if key.revokedAt == nil {
                key.revokedAt = now
                try db.execute(sql: "UPDATE service_keys SET revoked_at = ? WHERE name = ?", arguments: [now.microseconds, name])
            }
            return key
        }
    }

    public func serviceKey(secretSha256: String) async throws -> ServiceKey? {
        try await reading { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM service_keys WHERE secret_sha256 = ?"), arguments: [secretSha256])
                .map(Self.serviceKey)
        }
    }

    public func deleteIdempotencyKeys(createdBefore instant: Instant) async throws -> Int {
        try await writing { db in
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE created_at < ?", arguments: [instant.microseconds])
            return db.changesCount
        }
    }

    public func lastPurgeSeq() async throws -> Int64 {
        try await reading { db in try Int64.fetchOne(db, sql: "SELECT max(purge_seq) FROM tombstones") ?? 0 }
    }

    public func content(ofEntry seq: Int64) async throws -> String? {
        try await reading { db in try String.fetchOne(db, sql: "SELECT text FROM content WHERE seq = ?", arguments: [seq]) }
    }

    // MARK: Runs

    public func createRun(name: String, at instant: Instant, purpose: RunPurpose, actor: String, now: Instant) async throws -> RunSummary {
        try await writing { db in
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM runs WHERE name = ?)", arguments: [name]) == true {
                throw AssentError.duplicateRun("a run named \(name) already exists")
            }
            let head = try Self.head(db)
            try SnapshotInstant.check(instant, for: .run, horizon: head.horizon, now: now)
            let ingest = try self.ingest(db, head: head, now: now)
            let engine = PolicyEngine(policies: ingest.policies)
            let policyVersion = ingest.policies.policy(at: instant).version
            let evaluator = RunEvaluator(engine: engine, at: instant)
            var manifest = ManifestHasher(header: ManifestHasher.header(
                name: name, at: instant, purpose: purpose, ledgerSeq: head.lastSeq, policyVersion: policyVersion))
            var position = 0
            var conversations = 0
            var feedback = 0
            let insertItem = try db.cachedStatement(sql: """
                INSERT INTO run_items (run, position, kind, item, account, manifest_line) VALUES (?, ?, ?, ?, ?, ?)
                """)
            try Self.forEachTimeline(db, upTo: head.lastSeq) { timeline, hashes in
                for item in evaluator.items(for: timeline, contentSha256: { hashes[$0] }) {
                    position += 1
                    let line = item.manifestLine
                    manifest.add(line: line)
                    insertItem.setUncheckedArguments([name, position, item.kind.rawValue, item.id, item.account, line])
                    try insertItem.execute()
                    if item.kind == .conversation { conversations += 1 } else { feedback += 1 }
                }
            }
            let summary = RunSummary(
                name: name, at: instant, createdAt: now, purpose: purpose, conversations: conversations, feedback: feedback,
                manifestSha256: manifest.finalize(), ledgerSeq: head.lastSeq, policyVersion: policyVersion)
            var body = summary.json
            body["ledgerSeq"] = .number(String(head.lastSeq))
            body["policyVersion"] = .string(policyVersion)
            let (record, hash) = ingest.record(.runCreated, at: instant, body: .object(body), actor: actor, movesHorizon: true)
            try Self.insert(record, hash: hash, db: db)
            try db.execute(sql: """
                INSERT INTO runs (name, at, created_at, purpose, ledger_seq, policy_version, conversation_count, feedback_count, manifest_sha256, created_seq)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [name, instant.microseconds, now.microseconds, purpose.rawValue, head.lastSeq, policyVersion,
                                 conversations, feedback, summary.manifestSha256, record.seq])
            try Self.saveHead(db, ingest: ingest, previous: head)
            return summary
        }
    }

    private static let runColumns = "name, at, created_at, purpose, conversation_count, feedback_count, manifest_sha256, ledger_seq, policy_version"

    private static func runSummary(_ row: Row) -> RunSummary {
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

    public func forEachRunItemWithContent(run name: String, kind: RunItemKind, _ body: @Sendable (RunItem, [String?]) throws -> Void) async throws {
        try await reading { db in
            let content = try db.cachedStatement(sql: "SELECT text FROM content WHERE seq = ?")
            try Self.forEachItem(db, run: name, kind: kind) { item in
                try body(item, try item.entries.map { try String.fetchOne(content, arguments: [$0.seq]) })
            }
        }
    }

    /// A run's items of one kind in manifest order. - Throws: `unknown_run`.
    private static func forEachItem(_ db: Database, run name: String, kind: RunItemKind, _ body: (RunItem) throws -> Void) throws {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM runs WHERE name = ?)", arguments: [name]) == true else {
            throw AssentError.unknownRun("no run named \(name)")
        }
        let rows = try Row.fetchCursor(
            db, sql: "SELECT manifest_line FROM run_items WHERE run = ? AND kind = ? ORDER BY position", arguments: [name, kind.rawValue])
        while let row = try rows.next() {
            try body(try RunItem(manifestLine: row[0]))
        }
    }

    public func deploymentKey(named name: String) async throws -> [UInt8] {
        try await writing { db in
            if let key = try Data.fetchOne(db, sql: "SELECT key FROM deployment_keys WHERE name = ?", arguments: [name]) {
                return Array(key)
            }
            var generator = SystemRandomNumberGenerator()
            let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try db.execute(
                sql: "INSERT INTO deployment_keys (name, key, created_at) VALUES (?, ?, ?)",
                arguments: [name, Data(key), Self.wallClockMicros()])
            return key
        }
    }

    public func runs(holdingConversation id: ConversationID) async throws -> [String] {
        try await reading { db in
            try String.fetchAll(db, sql: """
                SELECT r.name FROM run_items i JOIN runs r ON r.name = i.run
                WHERE i.item = ? AND i.kind = 'conversation' ORDER BY r.created_seq
                """, arguments: [id])
        }
    }

    public func lineage(account: AccountID) async throws -> [LineageRun] {
        try await reading { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT r.name, i.kind, i.item FROM run_items i JOIN runs r ON r.name = i.run
                WHERE i.account = ? ORDER BY r.created_seq, i.position
                """, arguments: [account])
            var out: [LineageRun] = []
            for row in rows {
                let name: String = row[0]
                if out.last?.name != name { out.append(LineageRun(name: name, conversations: [], feedback: [])) }
                if (row[1] as String) == RunItemKind.conversation.rawValue {
                    out[out.count - 1].conversations.append(row[2])
                } else {
                    out[out.count - 1].feedback.append(row[2])
                }
            }
            return out
        }
    }

    // MARK: Sweeps

    public func sweep(at instant: Instant, actor: String, now: Instant) async throws -> SweepResult {
        let result = try await sweepTransaction(at: instant, actor: actor, now: now)
        if !result.conversations.isEmpty || !result.feedback.isEmpty {
            // The purged text is still in the WAL's frames: copy them back and truncate the WAL.
            try await writingWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        }
        return result
    }

    private func sweepTransaction(at instant: Instant, actor: String, now: Instant) async throws -> SweepResult {
        try await writing { db in
            let head = try Self.head(db)
            try SnapshotInstant.check(instant, for: .sweep, horizon: head.horizon, now: now)
            let ingest = try self.ingest(db, head: head, now: nil)
            let engine = PolicyEngine(policies: ingest.policies)
            var conversations: [ConversationID] = []
            var feedback: [FeedbackID] = []
            let tombstone = try db.cachedStatement(sql: """
                INSERT INTO tombstones (content_seq, purge_seq, account, conversation, feedback, content_sha256, had_content, purged_at)
                VALUES (?, ?, ?, ?, ?, ?, (SELECT EXISTS (SELECT 1 FROM content WHERE seq = ?)), ?)
                """)
            let deleteContent = try db.cachedStatement(sql: "DELETE FROM content WHERE seq = ?")
            try Self.forEachTimeline(db, upTo: head.lastSeq) { timeline, hashes in
                for purge in engine.purges(in: timeline, at: instant) {
                    let accepted = try ingest.accept(purge.event, actor: actor)
                    try Self.write(accepted, db: db)
                    guard case .contentPurged(let conversation, let feedbackID) = purge.event.body else { continue }
                    for entry in purge.entries {
                        tombstone.setUncheckedArguments([
                            entry.seq, accepted.record.seq, timeline.account, conversation, feedbackID, hashes[entry.seq], entry.seq,
                            instant.microseconds,
                        ])
                        try tombstone.execute()
                        deleteContent.setUncheckedArguments([entry.seq])
                        try deleteContent.execute()
                    }
                    if let feedbackID { feedback.append(feedbackID) } else { conversations.append(conversation) }
                }
            }
            let body: JSONValue = .object([
                "at": .string(instant.rfc3339),
                "purged": .object(["conversations": .number(String(conversations.count)), "feedback": .number(String(feedback.count))]),
            ])
            let (record, hash) = ingest.record(.sweepCompleted, at: instant, body: body, actor: actor, movesHorizon: true)
            try Self.insert(record, hash: hash, db: db)
            try Self.saveHead(db, ingest: ingest, previous: head)
            return SweepResult(at: instant, conversations: conversations, feedback: feedback)
        }
    }

    // MARK: Verification

    public func verifyLedger() async throws -> LedgerVerification {
        try await reading { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT seq, at, actor, kind, account, body, content_sha256, hash FROM ledger ORDER BY seq")
            var previous = LedgerChain.genesis
            var expected: Int64 = 1
            while let row = try rows.next() {
                let seq: Int64 = row[0]
                if seq != expected {
                    return LedgerVerification(ok: false, entries: Int(expected - 1), brokenAt: expected, reason: "entry #\(expected) is missing")
                }
                let record = LedgerRecord(
                    seq: seq, at: Instant(microseconds: row[1]), actor: row[2], kind: row[3], account: row[4], body: row[5],
                    contentSha256: row[6])
                let stored: Data = row[7]
                switch LedgerCodec.verify(record, storedHash: Array(stored), previous: previous) {
                case .sound(let hash): previous = hash
                case .broken(let reason): return LedgerVerification(ok: false, entries: Int(seq - 1), brokenAt: seq, reason: reason)
                }
                expected += 1
            }
            let head = try Self.head(db)
            let entries = Int(expected - 1)
            if head.lastSeq != expected - 1 || head.lastHash != previous {
                return LedgerVerification(ok: false, entries: entries, brokenAt: expected - 1, reason: "the ledger head does not match its last entry")
            }
            if let (seq, reason) = try Self.checkBesideChain(db) {
                return LedgerVerification(ok: false, entries: entries, brokenAt: seq, reason: reason)
            }
            return LedgerVerification(ok: true, entries: entries)
        }
    }

    /// What decisions read beside the chain, checked against the (verified) ledger: every policy
    /// version is its `policy.applied` entry, every conversation's and feedback's owner is the
    /// account of the entry that created it, and stored text hashes to its entry's digest.
    /// - Returns: the entry and the reason of the first mismatch, or nil.
    private static func checkBesideChain(_ db: Database) throws -> (Int64, String)? {
        let policies = try Row.fetchCursor(db, sql: """
            SELECT p.seq, p.effective_from, p.document, l.kind, l.at, l.body FROM policy_versions p LEFT JOIN ledger l ON l.seq = p.seq ORDER BY p.seq
            """)
        var versions = 0
        while let row = try policies.next() {
            versions += 1
            let seq: Int64 = row[0]
            guard (row[3] as String?) == LedgerRecordKind.policyApplied.rawValue, (row[4] as Int64?) == row[1], (row[5] as String?) == row[2] else {
                return (seq, "policy version #\(seq) does not match its ledger entry")
            }
        }
        let applied = try Int.fetchOne(db, sql: "SELECT count(*) FROM ledger WHERE kind = ?", arguments: [LedgerRecordKind.policyApplied.rawValue]) ?? 0
        if applied != versions { return (0, "\(applied) policy entries in the ledger, \(versions) policy versions in force") }
        let conversations = try Row.fetchCursor(db, sql: """
            SELECT c.id, c.account, c.first_seq, l.kind, l.account, l.body FROM conversations c LEFT JOIN ledger l ON l.seq = c.first_seq
            """)
        while let row = try conversations.next() {
            let seq: Int64 = row[2]
            guard (row[3] as String?) == EventType.conversationActivity.rawValue, (row[4] as String?) == row[1],
                  let body: String = row[5], (try? LedgerCodec.event(seq: seq, body: body))?.conversation == row[0]
            else { return (seq, "conversation \(row[0] as String)'s owner does not match the entry that created it") }
        }
        let feedback = try Row.fetchCursor(db, sql: """
            SELECT f.id, f.account, f.conversation, f.seq, l.kind, l.account, l.body FROM feedback f LEFT JOIN ledger l ON l.seq = f.seq
            """)
        while let row = try feedback.next() {
            let seq: Int64 = row[3]
            guard (row[4] as String?) == EventType.feedbackSubmitted.rawValue, (row[5] as String?) == row[1],
                  let body: String = row[6], let event = try? LedgerCodec.event(seq: seq, body: body),
                  case .feedbackSubmitted(let conversation, let id, _, _) = event.body, id == row[0], conversation == row[2]
            else { return (seq, "feedback \(row[0] as String)'s owner does not match the entry that created it") }
        }
        let content = try Row.fetchCursor(db, sql: """
            SELECT c.seq, c.text, c.account, l.content_sha256, l.account FROM content c LEFT JOIN ledger l ON l.seq = c.seq ORDER BY c.seq
            """)
        while let row = try content.next() {
            let seq: Int64 = row[0]
            guard let digest: String = row[3], digest == Digest.sha256Hex(row[1] as String), (row[4] as String?) == row[2] else {
                return (seq, "the stored text of entry #\(seq) does not match its digest")
            }
        }
        return nil
    }

    public func entryHash(seq: Int64) async throws -> [UInt8]? {
        try await reading { db in try Data.fetchOne(db, sql: "SELECT hash FROM ledger WHERE seq = ?", arguments: [seq]).map(Array.init) }
    }
}

// MARK: Failures

extension SQLiteStore {
    /// SQLite's failures as the store's: a database that cannot be reached now is
    /// `store_unavailable` (retry), a damaged one `store_corrupt`; a refusal of the rules stays the
    /// `AssentError` it was.
    static func storeError(_ error: any Error, opening path: String? = nil) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        let what = path.map { "database \($0)" } ?? "the database"
        switch error.resultCode {
        case .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_FORMAT:
            return StoreError.corrupt("\(what) is damaged or not a database: \(error.message ?? "\(error.resultCode)")")
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH:
            return StoreError.unavailable("cannot open \(what): \(error.message ?? "\(error.resultCode)")")
        case .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_IOERR, .SQLITE_FULL, .SQLITE_NOMEM, .SQLITE_PROTOCOL, .SQLITE_INTERRUPT, .SQLITE_MISUSE:
            // MISUSE is what GRDB answers once the pool is closed.
            return StoreError.unavailable("\(what) is unavailable: \(error.message ?? "\(error.resultCode)")")
        default:
            return StoreError.internal("\(what) failed: \(error.message ?? "\(error.resultCode)")")
        }
    }

    func reading<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.read(body) } catch { throw Self.storeError(error) }
    }

    func writing<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.write(body) } catch { throw Self.storeError(error) }
    }

    func writingWithoutTransaction<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.writeWithoutTransaction(body) } catch { throw Self.storeError(error) }
    }
}
