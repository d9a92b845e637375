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
    let policyCache = Mutex<(newestSeq: Int64, history: PolicyHistory)?>(nil)
    let groupCommit = GroupCommit()
    let timelines: TimelineCache
    let settings: Configuration
    /// The ingests' caches, added up (each ingest lives for one transaction).
    let ingestStatistics: Mutex<CacheStatistics>
    /// The user routes' rate buckets, writes and costly reads: in this process (a SQLite file is
    /// served by one server).
    let writeBuckets = LocalRateBuckets()
    let readBuckets = LocalRateBuckets()

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
        /// Packed rows one transaction of a run's build writes: an append waits behind one such
        /// transaction at most. Default 250.
        public var runRowsPerWrite = 250
        /// Called after each chunk of a run built on a snapshot is written, before the next: lets
        /// tests and benchmarks act while a run is half built. Nil in production.
        public var afterRunChunk: (@Sendable () async -> Void)?

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
            try pool.read { db in try Migrations.refuseNewer(db) }
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

    struct Head {
        var lastSeq: Int64
        var lastHash: [UInt8]
        var horizon: Instant?
    }

    static func startLedgerIfEmpty(_ db: Database) throws {
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

    static func head(_ db: Database) throws -> Head {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT last_seq, last_hash, horizon FROM ledger_head WHERE id = 1"))
        else {
            throw StoreError.corrupt("the database has no ledger head")
        }
        let hash: Data = row[1]
        let horizon: Int64? = row[2]
        return Head(lastSeq: row[0], lastHash: Array(hash), horizon: horizon.map(Instant.init(microseconds:)))
    }

    static func saveHead(_ db: Database, ingest: EventIngest, previous: Head) throws {
        var horizon = previous.horizon
        if let newest = ingest.newestInstant { horizon = max(horizon ?? newest, newest) }
        try queueDeliveries(db, through: ingest.nextSeq - 1)
        try db.cachedStatement(sql: "UPDATE ledger_head SET last_seq = ?, last_hash = ?, horizon = ? WHERE id = 1")
            .execute(arguments: [ingest.nextSeq - 1, Data(ingest.previousHash), horizon?.microseconds])
    }

    /// Writes a ledger entry; an account event also gets its `enc` and moves the account's head.
    static func insert(_ record: LedgerRecord, hash: [UInt8], event: Event? = nil, db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO ledger (seq, at, actor, kind, account, body, content_sha256, hash, recorded_at, enc)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        statement.setUncheckedArguments([
            record.seq, record.at.microseconds, record.actor, record.kind, record.account, record.body,
            record.contentSha256, Data(hash), Self.wallClockMicros(), event.map { Data(EventCodec.encode($0, includingContent: false)) },
        ])
        try statement.execute()
        if let account = record.account {
            let head = try db.cachedStatement(
                sql: """
                    INSERT INTO accounts (account, last_seq) VALUES (?, ?)
                    ON CONFLICT (account) DO UPDATE SET last_seq = excluded.last_seq
                    """)
            head.setUncheckedArguments([account, record.seq])
            try head.execute()
        }
    }

    static func wallClockMicros() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }

    /// The policy history, parsed once per version applied: every decision reads it, and the
    /// cache stays right because versions are only ever added (the newest seq names the state,
    /// also when another process applied it).
    func policyHistory(_ db: Database) throws -> PolicyHistory {
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
            let (record, hash) = ingest.record(
                .policyApplied, at: version.effectiveFrom, body: version.json, actor: actor, movesHorizon: false)
            try Self.insert(record, hash: hash, db: db)
            try db.execute(
                sql: "INSERT INTO policy_versions (seq, version, effective_from, document) VALUES (?, ?, ?, ?)",
                arguments: [record.seq, version.policy.version, version.effectiveFrom.microseconds, record.body])
            try Self.saveHead(db, ingest: ingest, previous: head)
            return version
        }
    }

    // MARK: Timelines

    func ingest(_ db: Database, head: Head, now: Instant?) throws -> EventIngest {
        EventIngest(
            policies: try policyHistory(db), now: now, lastSeq: head.lastSeq, lastHash: head.lastHash,
            loaders: EventIngest.Loaders(
                // Inside a write: what it loads may not commit, so it is not kept.
                timelines: { accounts in try self.timelines(db, accounts: accounts) },
                owners: { conversations, feedback in
                    (try Self.owners(db, table: "conversations", ids: conversations), try Self.owners(db, table: "feedback", ids: feedback))
                }),
            cacheBytes: settings.ingestCacheBytes)
    }

    /// `?, ?, …` for `count` parameters.
    static func placeholders(_ count: Int) -> String {
        String(repeating: "?, ", count: max(0, count - 1)) + (count > 0 ? "?" : "")
    }

    /// The owners of ids of `table` (conversations or feedback), in one query.
    static func owners(_ db: Database, table: String, ids: [String]) throws -> [String: AccountID] {
        guard !ids.isEmpty else { return [:] }
        var owners: [String: AccountID] = [:]
        let rows = try Row.fetchCursor(
            db.makeStatement(sql: "SELECT id, account FROM \(table) WHERE id IN (\(placeholders(ids.count)))"),
            arguments: StatementArguments(ids))
        while let row = try rows.next() { owners[row[0]] = row[1] }
        return owners
    }

    /// The timelines of these accounts: from the committed cache where the account's head still
    /// names the cached last entry, the rest from the ledger; two queries in all.
    func timelines(_ db: Database, accounts: [AccountID]) throws -> [AccountID: AccountTimeline] {
        guard !accounts.isEmpty else { return [:] }
        var found: [AccountID: AccountTimeline] = [:]
        var missing: [AccountID] = []
        let heads = try Row.fetchCursor(
            db.makeStatement(sql: "SELECT account, last_seq FROM accounts WHERE account IN (\(Self.placeholders(accounts.count)))"),
            arguments: StatementArguments(accounts))
        while let row = try heads.next() {
            let account: String = row[0]
            if let timeline = timelines.get(account, lastSeq: row[1]) { found[account] = timeline } else { missing.append(account) }
        }
        guard !missing.isEmpty else { return found }
        let rows = try Row.fetchCursor(
            db.makeStatement(
                sql: """
                    SELECT account, seq, enc FROM ledger WHERE account IN (\(Self.placeholders(missing.count))) ORDER BY account, at, seq
                    """), arguments: StatementArguments(missing))
        var current: String?
        var entries = EncodedEntries()
        func flush() {
            if let current, !entries.isEmpty { found[current] = AccountTimeline(account: current, encoded: entries) }
            entries.removeAll(keepingCapacity: true)
        }
        while let row = try rows.next() {
            let account: String = row[0]
            if account != current {
                flush()
                current = account
            }
            let seq: Int64 = row[1]
            try Self.add(row, encAt: 2, account: account, seq: seq, to: &entries)
        }
        flush()
        return found
    }

    /// Adds a finished ingest's cache counters to the store's.
    func recordIngest(_ ingest: EventIngest) {
        let statistics = ingest.cacheStatistics
        ingestStatistics.withLock { $0.accumulate(statistics) }
    }

    public func cacheStatistics() -> [CacheStatistics] {
        [timelines.statistics, ingestStatistics.withLock { $0 }]
    }

    static func timeline(_ db: Database, account: AccountID) throws -> (timeline: AccountTimeline, hashes: [Int64: String])? {
        let rows = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT seq, enc, content_sha256 FROM ledger WHERE account = ? ORDER BY at, seq"), arguments: [account])
        var entries = EncodedEntries()
        var hashes: [Int64: String] = [:]
        while let row = try rows.next() {
            let seq: Int64 = row[0]
            try Self.add(row, encAt: 1, account: account, seq: seq, to: &entries)
            if let hash: String = row[2] { hashes[seq] = hash }
        }
        guard !entries.isEmpty else { return nil }
        return (AccountTimeline(account: account, encoded: entries), hashes)
    }

    /// Adds a row's entry to `entries`, its event read from its `enc` column in place.
    static func add(_ row: Row, encAt index: Int, account: AccountID, seq: Int64, to entries: inout EncodedEntries) throws {
        _ = try withEnc(row, at: index, seq: seq) { bytes in try entries.add(seq: seq, enc: bytes, account: account) }
    }

    /// The event of a row's `enc` column, decoded in place.
    static func event(_ row: Row, encAt index: Int, account: AccountID, seq: Int64) throws -> Event {
        try withEnc(row, at: index, seq: seq) { bytes in try EventCodec.decode(bytes, account: account, seq: seq) }
    }

    /// `body` over the bytes of the `enc` column of ledger entry `seq`'s row, in place.
    /// - Throws: `StoreError.corrupt` when the entry has none; what `body` throws.
    private static func withEnc<T>(_ row: Row, at index: Int, seq: Int64, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        try row.withUnsafeData(atIndex: index) { data in
            guard let data else { throw StoreError.corrupt("ledger entry #\(seq) has no enc") }
            return try data.withUnsafeBytes(body)
        }
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
    func cachedTimeline(_ db: Database, account: AccountID, keeping: Bool) throws -> AccountTimeline? {
        guard
            let lastSeq = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT last_seq FROM accounts WHERE account = ?"), arguments: [account])
        else { return nil }
        if let timeline = timelines.get(account, lastSeq: lastSeq) { return timeline }
        let timeline = try Self.timeline(db, account: account)?.timeline
        if keeping, let timeline { timelines.put(account, lastSeq: lastSeq, timeline) }
        return timeline
    }

    public func account(ofConversation id: ConversationID) async throws -> AccountID? {
        try await reading { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT account FROM conversations WHERE id = ?"), arguments: [id])
        }
    }

    /// Streams every account's timeline in byte order of account ids, as of ledger entry `lastSeq`.
    /// - Parameters:
    ///   - after: start after this account (the last one of the previous chunk).
    ///   - limit: stop after this many accounts.
    /// - Returns: the last account streamed, nil when there was none.
    @discardableResult
    static func forEachTimeline(
        _ db: Database, upTo lastSeq: Int64, after: AccountID? = nil, limit: Int = .max,
        _ body: (AccountTimeline, [Int64: String]) throws -> Void
    ) throws -> AccountID? {
        try forEachAccount(db, upTo: lastSeq, after: after, limit: limit) { account, entries, hashes in
            try body(AccountTimeline(account: account, encoded: entries), hashes)
        }
    }

    /// ``forEachTimeline(_:upTo:after:limit:_:)`` without building the timelines: each account's
    /// entries (read, decoded) and content digests, for a caller that builds them elsewhere.
    @discardableResult
    static func forEachAccount(
        _ db: Database, upTo lastSeq: Int64, after: AccountID? = nil, limit: Int = .max,
        _ body: (AccountID, EncodedEntries, [Int64: String]) throws -> Void
    ) throws -> AccountID? {
        let rows =
            after == nil
            ? try Row.fetchCursor(
                db,
                sql: """
                    SELECT account, seq, enc, content_sha256 FROM ledger
                    WHERE account IS NOT NULL AND seq <= ? ORDER BY account, at, seq
                    """, arguments: [lastSeq])
            : try Row.fetchCursor(
                db,
                sql: """
                    SELECT account, seq, enc, content_sha256 FROM ledger
                    WHERE account IS NOT NULL AND account > ? AND seq <= ? ORDER BY account, at, seq
                    """, arguments: [after, lastSeq])
        var current: String?
        var entries = EncodedEntries()
        var hashes: [Int64: String] = [:]
        var streamed = 0
        func flush() throws {
            if let current, !entries.isEmpty {
                try body(current, entries, hashes)
                streamed += 1
            }
            entries.removeAll(keepingCapacity: true)
            hashes.removeAll(keepingCapacity: true)
        }
        while let row = try rows.next() {
            let account: String = row[0]
            if account != current {
                try flush()
                if streamed >= limit { return current }
                current = account
            }
            let seq: Int64 = row[1]
            try Self.add(row, encAt: 2, account: account, seq: seq, to: &entries)
            if let hash: String = row[3] { hashes[seq] = hash }
        }
        try flush()
        return current
    }

    /// Reads each entry's instant and content digest by seq: what a manifest line needs beside
    /// the packed items.
    static func entryLookup(_ db: Database) throws -> (Int64) throws -> RunItemEntry {
        let statement = try db.cachedStatement(sql: "SELECT at, content_sha256 FROM ledger WHERE seq = ?")
        return { seq in
            guard let row = try Row.fetchOne(statement, arguments: [seq]) else {
                throw StoreError.corrupt("a run holds ledger entry #\(seq), which the ledger does not")
            }
            return RunItemEntry(seq: seq, at: Instant(microseconds: row[0]), contentSha256: row[1])
        }
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
