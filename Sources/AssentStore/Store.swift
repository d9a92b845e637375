public import AssentCore
import Synchronization

/// What decisions read: the policy history, timelines and the ledger's state.
public protocol LedgerReading: Sendable {
    /// Every policy version in applied order, starting with the built-in default.
    func policyHistory() async throws -> PolicyHistory

    /// The newest instant of the ledger's events, runs (at their T) and sweeps (at their T).
    func horizon() async throws -> Instant?

    /// The last ledger entry's sequence number: names the ledger's state.
    func lastSeq() async throws -> Int64

    /// The account's timeline, or nil when the ledger has no event for it.
    func timeline(of account: AccountID) async throws -> AccountTimeline?

    /// The account's timeline and the policy history read together: what a prompt or an
    /// eligibility question needs, in one round trip where the backend can.
    func decisionInputs(account: AccountID) async throws -> (timeline: AccountTimeline?, policies: PolicyHistory)

    /// The account a conversation belongs to, or nil.
    func account(ofConversation id: ConversationID) async throws -> AccountID?

    /// The owner of a conversation with its timeline and the policy history: what `explain`
    /// needs, in one round trip where the backend can. Nil when the conversation does not exist.
    func decisionInputs(conversation id: ConversationID) async throws -> (
        account: AccountID, timeline: AccountTimeline, policies: PolicyHistory
    )?

    /// Every ledger entry of an account (its events, purges included), in ledger order.
    func ledgerEntries(ofAccount account: AccountID) async throws -> [LedgerRecord]

    /// The sequence numbers of an account's ledger entries, ascending (its index alone is read).
    func ledgerSeqs(ofAccount account: AccountID) async throws -> [Int64]

    /// The account's ledger entries of these sequence numbers (ascending), each with its chain
    /// hash and the stored text of its exchange or comment (nil when it has none or it was
    /// purged), in one statement: what its owner downloads, a page at a time, and the entries its
    /// settings and receipts show. A number that is not one of the account's entries is left out.
    func ledgerEntriesWithContent(ofAccount account: AccountID, seqs: [Int64]) async throws -> [StoredEntry]

    /// The entries of these kinds with a sequence number in `(after, after + scanning]`, at most
    /// `limit`, in sequence order, read from one snapshot: a page of the change feed whose work is
    /// bounded however sparse the kinds are.
    func ledgerEntries(after seq: Int64, kinds: [String], limit: Int, scanning: Int64) async throws -> LedgerPage

    /// Streams every account's timeline, as of one consistent read, in account order.
    /// - Returns: the last ledger entry of that read: what the timelines are exact for.
    @discardableResult
    func forEachTimeline(_ body: @Sendable (AccountTimeline) throws -> Void) async throws -> Int64
}

/// What adds to the ledger: policy versions, imports and appends, all or nothing.
public protocol LedgerWriting: Sendable {
    /// Validates a policy file against the history and the horizon and records the new version.
    /// - Throws: `invalid_policy`.
    func applyPolicy(_ document: PolicyDocument, actor: String, now: Instant) async throws -> PolicyVersion

    /// Imports JSONL events (SPEC §6), all or nothing, streaming.
    /// - Parameters:
    ///   - lines: the file's lines, read as the import goes.
    ///   - fileSha256: the file's digest, for re-import detection (nil skips it).
    /// - Throws: the first refusal, prefixed `line N: `; nothing is written.
    func importEvents(
        lines: any LineSource, fileSha256: String?, actor: String, now: Instant,
        progress: (@Sendable (ImportProgress) -> Void)?
    ) async throws -> ImportSummary

    /// Appends a batch of events, all or nothing; returns their ledger entries.
    func append(_ events: [Event], actor: String, now: Instant) async throws -> [LedgerRecord]

    /// Appends a batch as ``append(_:actor:now:)`` does, once per `Idempotency-Key`: a retry with
    /// the same key and request returns the first response and writes nothing.
    /// - Parameter respond: makes the response body from the new entries; stored with the key.
    /// - Throws: `idempotency_conflict` when the key was used with another request.
    func append(
        _ events: [Event], actor: String, now: Instant, idempotency: IdempotentRequest,
        respond: @escaping @Sendable ([LedgerRecord]) -> String
    ) async throws -> AppendOutcome

    /// Forgets `Idempotency-Key`s recorded before `instant`; returns how many.
    func deleteIdempotencyKeys(createdBefore instant: Instant) async throws -> Int
}

/// What checks the ledger and reads what it holds beside the chain.
public protocol LedgerAudit: Sendable {
    /// Recomputes the hash chain and names the first broken entry; then checks what decisions
    /// read beside the chain against it: policy versions, id ownership, stored content.
    func verifyLedger() async throws -> LedgerVerification

    /// The stored chain hash of entry `seq`, or nil when the ledger has no such entry.
    func entryHash(seq: Int64) async throws -> [UInt8]?

    /// The stored text of a ledger entry's content, if not purged.
    func content(ofEntry seq: Int64) async throws -> String?
}

/// Runs (immutable snapshots with lineage) and retention sweeps.
public protocol RunStore: Sendable {
    /// Creates a run at `at`: evaluates every candidate with the engine and writes its
    /// immutable manifest. A nil `at` is "now", resolved against the horizon of the ledger state
    /// the run reads (``SnapshotInstant/resolve(_:horizon:now:)``).
    /// - Throws: `duplicate_run`; `invalid_argument` when `at` precedes the horizon.
    func createRun(name: String, at: Instant?, purpose: RunPurpose, actor: String, now: Instant) async throws -> RunSummary

    /// Every run, oldest first.
    func runs() async throws -> [RunSummary]

    /// One run. - Throws: `unknown_run`.
    func run(named name: String) async throws -> RunSummary

    /// Streams a run's manifest items of one kind, in manifest order.
    func forEachRunItem(run name: String, kind: RunItemKind, _ body: @Sendable (RunItem) throws -> Void) async throws

    /// Streams a run's items of one kind with the stored text of each entry, aligned with
    /// `item.entries` (nil where the text was purged or never given).
    func forEachRunItemWithContent(run name: String, kind: RunItemKind, _ body: @Sendable (RunItem, [String?]) throws -> Void) async throws

    /// The names of the runs holding a conversation, oldest first.
    func runs(holdingConversation id: ConversationID) async throws -> [String]

    /// The runs holding an account's data, oldest first.
    func lineage(account: AccountID) async throws -> [LineageRun]

    /// Purges content whose retainUntil ≤ `at`, keeping tombstones, and records the purges. A nil
    /// `at` is "now", resolved as a run's.
    func sweep(at: Instant?, actor: String, now: Instant) async throws -> SweepResult

    /// The ledger entry of the newest purge, 0 when nothing was ever purged: the state of every
    /// run export (an export changes only when content it held is purged).
    func lastPurgeSeq() async throws -> Int64
}

/// Service keys and the deployment's own secrets.
public protocol KeyStore: Sendable {
    /// Stores a new service key. - Throws: `duplicate_key`.
    func createServiceKey(_ key: ServiceKey) async throws

    /// Every service key, revoked ones included, by name.
    func serviceKeys() async throws -> [ServiceKey]

    /// The key of this name, revoked or not (nil: none).
    func serviceKey(named name: String) async throws -> ServiceKey?

    /// Marks a key revoked; it authenticates nothing from then on. - Throws: `unknown_key`.
    func revokeServiceKey(named name: String, now: Instant) async throws -> ServiceKey

    /// The key whose secret, or whose replaced secret still kept after a rotation, has this SHA-256,
    /// revoked, expired or not (``ServiceKey/refusal(secretSha256:at:)`` decides).
    func serviceKey(secretSha256: String) async throws -> ServiceKey?

    /// Replaces a key's row by its rotated form (``ServiceKey/rotated(newSecretSha256:at:overlapSeconds:expiresInSeconds:)``),
    /// provided its secret is still `expectedSecretSha256` (a rotation from elsewhere meanwhile
    /// → `invalid_argument`). - Throws: `unknown_key`.
    func replaceServiceKey(_ key: ServiceKey, expectedSecretSha256: String) async throws

    /// Records that the key authenticated a request at `instant`, unless a use within
    /// ``ServiceKey/lastUseResolution`` before it is recorded already (no write on every request).
    func recordServiceKeyUse(named name: String, at instant: Instant) async throws

    /// A secret of this deployment (created at random on first use, never exported): keys the
    /// pseudonyms of exports.
    func deploymentKey(named name: String) async throws -> [UInt8]
}

/// Figures one server computes for every server of a database (the console's dashboard), stored
/// with the ledger entry they are exact for, so that N servers do not each scan the ledger.
public protocol SharedFigures: Sendable {
    /// The figures stored under `name`, if any.
    func storedFigures(named name: String) async throws -> StoredFigures?

    /// Computes figures under a lease on `name`: when no other server holds it, runs `compute`,
    /// stores what it returns (unless newer figures were stored meanwhile) and returns it; nil
    /// when another server is computing them now.
    func computeFigures(named name: String, _ compute: @escaping @Sendable () async throws -> StoredFigures) async throws
        -> StoredFigures?
}

/// Figures as stored: their text and the ledger entry they are exact for.
public struct StoredFigures: Sendable, Equatable {
    public var asOfSeq: Int64
    public var text: String

    public init(asOfSeq: Int64, text: String) {
        self.asOfSeq = asOfSeq
        self.text = text
    }
}

/// What Assent needs from storage: the ledger, the content beside it, runs and sweeps, keys.
///
/// A store narrows and streams; the rules are decided by `AssentCore` (through
/// ``EventIngest`` and ``RunEvaluator``, which every backend shares, and the engine's purges). Every
/// write is atomic: a refused import or request leaves the store as it was. The requirements are
/// split by concern into the protocols above; a backend implements them all.
public protocol Store: LedgerReading, LedgerWriting, LedgerAudit, RunStore, KeyStore, SharedFigures, WebhookStore, RateBuckets,
    EndedSessions
{
    /// Closes the database.
    func close() async throws

    /// How the store's caches are doing, for `/metrics`.
    func cacheStatistics() -> [CacheStatistics]

    /// How long writers waited for the ledger chain's lock (nil where the store does not measure it).
    func chainLockWaits() -> LockWaitStatistics?

    /// How long each batch of appends held the chain's lock, from taking it to its commit's end
    /// (nil where the store does not measure it): what bounds the rate of appends.
    func appendLockHolds() -> LockWaitStatistics?

    /// How the batches of appends validated before the chain's lock were checked under it, and
    /// how many accounts' heads their plans did not read (nil where batches are validated under
    /// the database's write lock: SQLite).
    func plannedAppendChecks() -> AppendPlanChecks?

    /// How the store's watch over connections to a database that may vanish without a word has
    /// done since it opened (nil where there is none: SQLite, or PostgreSQL with it off).
    func connectionWatch() -> ConnectionWatchCounts?

    /// What the store noticed of a database that moved under it and did about it (nil where the
    /// database cannot move under a running server: SQLite).
    func databaseRecoveries() -> DatabaseRecoveries?

    /// Calls `onWrite` after every ledger write that commits on this database, whoever made it
    /// (another process, another server), until the store closes; also once each time it starts
    /// (or starts again) listening, since writes meanwhile were not heard. Returns false where the
    /// store cannot hear others' writes (SQLite: its waiters read the ledger again on a timer).
    func watchLedgerWrites(_ onWrite: @escaping @Sendable () -> Void) -> Bool
}

extension Store {
    public func cacheStatistics() -> [CacheStatistics] { [] }
    public func chainLockWaits() -> LockWaitStatistics? { nil }
    public func appendLockHolds() -> LockWaitStatistics? { nil }
    public func plannedAppendChecks() -> AppendPlanChecks? { nil }
    public func connectionWatch() -> ConnectionWatchCounts? { nil }
    public func databaseRecoveries() -> DatabaseRecoveries? { nil }
    public func watchLedgerWrites(_ onWrite: @escaping @Sendable () -> Void) -> Bool { false }
}

/// What a store noticed of a database that moved under it (a failover, a restart, a backup put
/// back), since it opened.
public struct DatabaseRecoveries: Sendable, Equatable {
    /// Times the database was found to have lost ledger entries the store saw committed.
    public var ledgerLosses: Int
    /// Requests whose connection the database had ended before they sent anything, run again on
    /// another connection.
    public var leasesRunAgain: Int

    public init(ledgerLosses: Int, leasesRunAgain: Int) {
        self.ledgerLosses = ledgerLosses
        self.leasesRunAgain = leasesRunAgain
    }
}

/// A store's checks of connections that waited long on the database, and the connections it
/// closed because the database did not answer or no longer had their sessions.
public struct ConnectionWatchCounts: Sendable, Equatable {
    public var checks: Int
    public var closed: Int
    /// Of `closed`: those whose session the database, answering, no longer had.
    public var sessionsGone: Int

    public init(checks: Int, closed: Int, sessionsGone: Int) {
        self.checks = checks
        self.closed = closed
        self.sessionsGone = sessionsGone
    }
}

/// Waits for a lock: how many, their total, and quantiles of the most recent ones.
public struct LockWaitStatistics: Sendable, Equatable {
    public var count: Int
    public var totalSeconds: Double
    /// Quantiles (0.5, 0.99) of the last ``LockWaitRecorder/window`` waits, in seconds.
    public var p50Seconds: Double
    public var p99Seconds: Double

    public init(count: Int, totalSeconds: Double, p50Seconds: Double, p99Seconds: Double) {
        self.count = count
        self.totalSeconds = totalSeconds
        self.p50Seconds = p50Seconds
        self.p99Seconds = p99Seconds
    }
}

/// Records lock waits (or holds) in a fixed window (constant memory), for ``LockWaitStatistics``.
public final class LockWaitRecorder: Sendable {
    public static let window = 2_048

    private struct State {
        var recent = [Double](repeating: 0, count: LockWaitRecorder.window)
        var next = 0
        var count = 0
        var total = 0.0
    }

    private let state = Mutex(State())

    public init() {}

    public func record(seconds: Double) {
        state.withLock { state in
            state.recent[state.next] = seconds
            state.next = (state.next + 1) % Self.window
            state.count += 1
            state.total += seconds
        }
    }

    public var statistics: LockWaitStatistics {
        state.withLock { state in
            let sorted = state.recent.prefix(min(state.count, Self.window)).sorted()
            func quantile(_ q: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
            return LockWaitStatistics(count: state.count, totalSeconds: state.total, p50Seconds: quantile(0.5), p99Seconds: quantile(0.99))
        }
    }
}

extension LedgerReading {
    public func decisionInputs(account: AccountID) async throws -> (timeline: AccountTimeline?, policies: PolicyHistory) {
        (try await timeline(of: account), try await policyHistory())
    }

    public func decisionInputs(conversation id: ConversationID) async throws -> (
        account: AccountID, timeline: AccountTimeline, policies: PolicyHistory
    )? {
        guard let account = try await account(ofConversation: id) else { return nil }
        let (timeline, policies) = try await decisionInputs(account: account)
        return timeline.map { (account, $0, policies) }
    }
}

/// Lines of text read one at a time, numbered from 1.
public protocol LineSource: AnyObject {
    /// The next line without its terminator, or nil at the end.
    func nextLine() throws -> String?
    /// Bytes consumed so far, and the total when known, for progress.
    var bytesRead: Int64 { get }
    var totalBytes: Int64? { get }
}

/// Lines from an array, for tests and small batches.
public final class ArrayLineSource: LineSource {
    private var lines: [String]
    private var index = 0
    public private(set) var bytesRead: Int64 = 0
    public let totalBytes: Int64?

    public init(_ lines: [String]) {
        self.lines = lines
        totalBytes = lines.reduce(0) { $0 + Int64($1.utf8.count + 1) }
    }

    public func nextLine() -> String? {
        guard index < lines.count else { return nil }
        defer { index += 1 }
        bytesRead += Int64(lines[index].utf8.count + 1)
        return lines[index]
    }
}
