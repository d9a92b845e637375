public import AssentCore
public import AssentStore
public import Crypto
import Synchronization

/// Assent's use cases, each one function with typed inputs and results: what the command line,
/// the HTTP API, the pages and the console do, and the only thing they call.
///
/// It loads from the store, lets `AssentCore` decide, and writes through the store; it stamps
/// writes with its one ``Clock``. It makes no JSON and knows no HTTP: the edges encode results
/// (SPEC §7's shapes are in `JSONShapes.swift`, shared by `--json` and the API).
public final class AssentApp: Sendable {
    /// The storage behind the use cases; edges never reach it.
    let store: any Store
    public let clock: Clock
    /// When this process last recorded each key's use (name → µs): a key used on every request
    /// is written at most once per ``ServiceKey/lastUseResolution``.
    private let keyUses = Mutex<[String: Int64]>([:])
    /// Signalled after each write this process makes to the ledger, and, once
    /// ``watchOtherWriters()`` is called on PostgreSQL, after each write of another server: what
    /// long polls and the webhook sender wait on.
    public let ledgerWrites = LedgerSignal()

    /// How often a waiter (a long poll, the webhook sender) reads the ledger again for entries
    /// that other processes or servers wrote: those of this process wake it at once, and so do
    /// other servers' where the store announces them (``watchOtherWriters()``); the timer is what
    /// is left when it does not (SQLite) or while it cannot (the database away).
    public let otherWritersPoll: Duration

    /// This server's copy of the sessions ended by sign-outs (``SessionEndings``).
    private let sessionEndings: SessionEndings

    /// How long a page session lasts at most: how long an account's ending is kept
    /// (``endAccountSessions(_:lifetime:)``).
    public static let pageSessionLifetime: Duration = .seconds(12 * 3_600)

    /// How long a sign-out everywhere refuses the user tokens issued before it
    /// (``signOutEverywhere(_:)``): longer than an identity provider's tokens live (minutes to
    /// hours; `serve --demo`'s, 30 days). A token valid for longer outlives it.
    public static let userTokenEndingLifetime: Duration = .seconds(30 * 86_400)

    public init(store: any Store, clock: Clock = .system, otherWritersPoll: Duration = .seconds(1)) {
        self.store = store
        self.clock = clock
        self.otherWritersPoll = otherWritersPoll
        self.sessionEndings = SessionEndings(store: store)
    }

    public func now() -> Instant { clock.now() }

    /// Wakes the waiters on ``ledgerWrites`` after writes by other processes and servers too,
    /// where the store hears them (PostgreSQL's notifications); `serve` calls it once. Returns
    /// whether the store does.
    @discardableResult
    public func watchOtherWriters() -> Bool {
        store.watchLedgerWrites { [ledgerWrites] in ledgerWrites.notify() }
    }

    // MARK: The store's state

    /// The newest instant of the ledger (nil when empty): the health check's database read.
    public func horizon() async throws -> Instant? { try await store.horizon() }

    /// The last ledger entry's seq: names the ledger's state (caches key on it).
    public func lastSeq() async throws -> Int64 { try await store.lastSeq() }

    /// The entry of the newest purge, 0 when none: the state of every run export.
    public func lastPurgeSeq() async throws -> Int64 { try await store.lastPurgeSeq() }

    public func cacheStatistics() -> [CacheStatistics] { store.cacheStatistics() }

    /// Waits for the ledger chain's lock, where the store measures them (PostgreSQL).
    public func chainLockWaits() -> LockWaitStatistics? { store.chainLockWaits() }
    public func appendLockHolds() -> LockWaitStatistics? { store.appendLockHolds() }
    public func plannedAppendChecks() -> AppendPlanChecks? { store.plannedAppendChecks() }
    /// The store's watch over connections to a database that may vanish (PostgreSQL).
    public func connectionWatch() -> ConnectionWatchCounts? { store.connectionWatch() }
    public func databaseRecoveries() -> DatabaseRecoveries? { store.databaseRecoveries() }

    public func close() async throws { try await store.close() }

    /// Signals a write to the ledger and passes its result on.
    private func written<T>(_ result: T) -> T {
        ledgerWrites.notify()
        return result
    }

    // MARK: Events

    /// Imports a JSONL file, all or nothing. - Throws: the first refusal, `line N: …`.
    public func importEvents(
        lines: any LineSource, fileSha256: String?, actor: String,
        progress: (@Sendable (ImportProgress) -> Void)? = nil
    ) async throws -> ImportSummary {
        let summary = try written(
            await store.importEvents(lines: lines, fileSha256: fileSha256, actor: actor, now: clock.now(), progress: progress))
        try await endSessions(ofAccountsDeletedBy: summary)
        return summary
    }

    /// Once an import that deletes accounts has landed, every page session of those accounts ends,
    /// as the product's `account.deleted` in a batch ends them (no device goes on opening what
    /// remains of their data). For a file imported before, the accounts are read back from the
    /// ledger's entries it wrote, so that an import that landed but whose endings failed (the
    /// database gone between the two) ends them when it is run again.
    private func endSessions(ofAccountsDeletedBy summary: ImportSummary) async throws {
        var accounts = summary.deletedAccounts
        if summary.alreadyImported, let first = summary.firstSeq, let last = summary.lastSeq {
            var after = first - 1
            while after < last {
                let page = try await store.ledgerEntries(
                    after: after, kinds: [EventType.accountDeleted.rawValue], limit: 1_000, scanning: min(100_000, last - after))
                accounts += page.entries.compactMap(\.account)
                guard page.through > after else { break }
                after = page.through
            }
        }
        // Every one of them exists (its deletion landed): no timeline is read. Written a chunk
        // at a time, one write each, not one per account.
        var seen = Set<AccountID>()
        let distinct = accounts.filter { seen.insert($0).inserted }
        for start in stride(from: 0, to: distinct.count, by: Self.endingsPerWrite) {
            let chunk = Array(distinct[start..<min(start + Self.endingsPerWrite, distinct.count)])
            let now = clock.now()
            let expiresAt = Self.expiry(from: now, lifetime: Self.pageSessionLifetime)
            try await store.endAccountSessions(accounts: chunk, before: now, expiresAt: expiresAt, now: now)
            await sessionEndings.note(chunk.map { EndedAccountSessions(account: $0, before: now, expiresAt: expiresAt, endedAt: 0) })
        }
    }

    /// How many accounts' session endings an import writes at a time.
    static let endingsPerWrite = 5_000

    /// When an ending made at `now` is forgotten: every session (or token) it ends has expired.
    private static func expiry(from now: Instant, lifetime: Duration) -> Instant {
        Instant(microseconds: now.microseconds + lifetime.components.seconds * 1_000_000)
    }

    /// Appends the product's batch, all or nothing.
    public func append(_ events: [Event], actor: String) async throws -> [LedgerRecord] {
        try written(await store.append(events, actor: actor, now: clock.now()))
    }

    /// Appends once per `Idempotency-Key`: a retry replays the first response.
    public func append(
        _ events: [Event], actor: String, idempotency: IdempotentRequest,
        respond: @escaping @Sendable ([LedgerRecord]) -> String
    ) async throws -> AppendOutcome {
        try written(await store.append(events, actor: actor, now: clock.now(), idempotency: idempotency, respond: respond))
    }

    /// Forgets `Idempotency-Key`s older than `seconds`; returns how many.
    public func expireIdempotencyKeys(olderThanSeconds seconds: Int64) async throws -> Int {
        try await store.deleteIdempotencyKeys(createdBefore: Instant(microseconds: clock.now().microseconds - seconds * 1_000_000))
    }

    // MARK: What a user does (stamped now, in the user's name)

    /// Accepts the terms in force now and records the choice: two entries in one batch.
    public func acceptAndChoose(
        account: AccountID, actor: String, training value: ChoiceValue, source: TermsSource,
        shownDefault: ChoiceValue?, gpc: Bool = false
    ) async throws -> Acceptance {
        let (now, policies) = try await userStamp(account)
        let terms = policies.policy(at: now).termsVersion
        let choiceSource: ChoiceSource =
            switch source {
            case .signup: .signup
            case .notice: .notice
            case .api: .api
            }
        let events = [
            Event(account: account, at: now, .termsAccepted(version: terms, source: source)),
            Event(account: account, at: now, .trainingChoice(value: value, source: choiceSource, shownDefault: shownDefault, gpc: gpc)),
        ]
        let records = try await store.append(events, actor: actor, now: now)
        ledgerWrites.notify()
        return Acceptance(account: account, at: now, termsVersion: terms, training: value, records: records, events: events)
    }

    /// The instant a user's action is stamped with: now, or later when the ledger already holds a
    /// later instant — the account's newest entry, or a run or sweep (the horizon, within
    /// ``SnapshotInstant/maxClockSkew``). Servers' clocks differ by seconds: a choice made on one
    /// server right after one on a server whose clock runs ahead must still sort after it (or the
    /// earlier choice would win), and a withdrawal must not sort before a run that could not
    /// honour it.
    func userStamp(_ account: AccountID) async throws -> (Instant, PolicyHistory) {
        let (timeline, policies) = try await store.decisionInputs(account: account)
        var (now, _) = SnapshotInstant.resolve(nil, horizon: try await store.horizon(), now: clock.now())
        if let previous = timeline?.lastStamp?.at, previous > now { now = previous }
        return (now, policies)
    }

    /// "Not now" on the notice.
    public func deferNotice(account: AccountID, actor: String) async throws -> Recorded {
        try await record(.noticeDeferred, account: account, actor: actor)
    }

    /// The toggle in privacy settings; `gpc` when the request carried the Global Privacy Control signal.
    public func changeTraining(account: AccountID, to value: ChoiceValue, actor: String, gpc: Bool = false) async throws -> Recorded {
        try await record(.trainingChoice(value: value, source: .settings, shownDefault: nil, gpc: gpc), account: account, actor: actor)
    }

    /// Deletes one of the account's conversations; another account's is answered exactly like
    /// one that does not exist. - Throws: `unknown_conversation`.
    public func deleteConversation(_ id: ConversationID, of account: AccountID, actor: String) async throws -> Recorded {
        guard try await store.account(ofConversation: id) == account else {
            throw AssentError.unknownConversation("conversation \(id) does not exist")
        }
        return try await record(.conversationDeleted(conversation: id), account: account, actor: actor)
    }

    /// Deletes the account.
    public func deleteAccount(_ account: AccountID, actor: String) async throws -> Recorded {
        try await record(.accountDeleted, account: account, actor: actor)
    }

    private func record(_ body: Event.Body, account: AccountID, actor: String) async throws -> Recorded {
        let (now, _) = try await userStamp(account)
        let event = Event(account: account, at: now, body)
        let records = try written(await store.append([event], actor: actor, now: now))
        return Recorded(account: account, at: now, records: records, events: [event])
    }

    /// The settings a user sees now: the choice in force, the retention new activity gets, and one
    /// page of their choices from the ledger (the page's entries found in the timeline, then only
    /// they read: an account's exchanges are never read for it). - Throws: `unknown_account`.
    public func settings(of account: AccountID, page: ChoicePage = ChoicePage()) async throws -> AccountSettings {
        let now = clock.now()
        let (found, policies) = try await store.decisionInputs(account: account)
        guard let timeline = found else { throw AssentError.unknownAccount("account \(account) does not exist") }
        let retention = try PolicyEngine(policies: policies).retentionInForce(for: timeline, at: now)
        let bound = Stamp.endOf(now)
        let all = timeline.choices.map(\.evidence.seq).filter { seq in page.before.map { seq < $0 } ?? true }.sorted()
        let shown = try await store.ledgerEntriesWithContent(ofAccount: account, seqs: Array(all.suffix(page.limit))).map(\.record)
        let choices = try shown.compactMap { record -> AccountSettings.Choice? in
            guard let event = try record.event(), case .trainingChoice(let value, let source, let shownDefault, let gpc) = event.body else {
                return nil
            }
            return AccountSettings.Choice(
                seq: record.seq, at: record.at, value: value, source: source, shownDefault: shownDefault, gpc: gpc,
                actorKind: record.actorKind)
        }
        return AccountSettings(
            account: account, at: now, training: timeline.choice(at: bound)?.value,
            termsVersion: timeline.acceptances.last(where: { $0.evidence.stamp <= bound })?.version,
            retention: retention, policy: policies.policy(at: now), choices: choices,
            olderBefore: all.count > shown.count ? shown.first?.seq : nil)
    }

    /// The account's conversations with their status now, most recent first.
    /// - Throws: `unknown_account`.
    public func conversations(of account: AccountID, at instant: Instant? = nil) async throws -> [ConversationStatus] {
        try await conversations(of: account, at: instant, page: ConversationPage()).statuses
    }

    /// One page of the account's conversations with their status at `instant` (now by default),
    /// most recent activity first; only the page's conversations are decided.
    /// - Throws: `unknown_account`.
    public func conversations(of account: AccountID, at instant: Instant? = nil, page: ConversationPage) async throws
        -> ConversationList
    {
        let timeline = try await existingTimeline(of: account)
        let at = instant ?? clock.now()
        let (statuses, olderBefore) = try await conversationStatuses(of: timeline, at: at, page: page)
        return ConversationList(account: account, at: at, statuses: statuses, olderBefore: olderBefore)
    }

    /// The policy in force at `instant` (now by default): what the notice and the settings show.
    public func policy(at instant: Instant? = nil) async throws -> Policy {
        try await store.policyHistory().policy(at: instant ?? clock.now())
    }

    // MARK: Runs

    /// Creates a run at `at` (now by default). - Throws: `duplicate_run`, `invalid_argument`.
    public func createRun(name: String, at instant: Instant? = nil, purpose: RunPurpose, actor: String) async throws -> RunSummary {
        try written(await store.createRun(name: name, at: instant, purpose: purpose, actor: actor, now: clock.now()))
    }

    /// Every run, oldest first.
    public func runs() async throws -> [RunSummary] { try await store.runs() }

    /// One run. - Throws: `unknown_run`.
    public func run(named name: String) async throws -> RunSummary { try await store.run(named: name) }

    /// A run's manifest items of one kind, in manifest order.
    public func forEachRunItem(run name: String, kind: RunItemKind, _ body: @Sendable (RunItem) throws -> Void) async throws {
        try await store.forEachRunItem(run: name, kind: kind, body)
    }

    /// Writes a run's redacted, pseudonymised shards and manifest into `directory`.
    public func exportRun(named name: String, to directory: String, exporter: RunExporter = RunExporter()) async throws
        -> RunExporter.Summary
    {
        try await exporter.export(run: name, from: store, to: directory)
    }

    // MARK: Retention

    /// Purges what is past its retention at `at` (now by default). - Throws: `invalid_argument`.
    public func sweep(at instant: Instant? = nil, actor: String) async throws -> SweepResult {
        try written(await store.sweep(at: instant, actor: actor, now: clock.now()))
    }

    // MARK: Policy

    public func policyHistory() async throws -> PolicyHistory { try await store.policyHistory() }

    /// Adds a policy version. - Throws: `invalid_policy`.
    public func applyPolicy(_ document: PolicyDocument, actor: String) async throws -> PolicyVersion {
        try written(await store.applyPolicy(document, actor: actor, now: clock.now()))
    }

    // MARK: The ledger

    public func verifyLedger() async throws -> LedgerVerification { try await store.verifyLedger() }

    /// Signs the ledger's head as of now with an Ed25519 key.
    public func checkpoint(signingKey: Curve25519.Signing.PrivateKey) async throws -> LedgerCheckpoint {
        let seq = try await store.lastSeq()
        guard let hash = try await store.entryHash(seq: seq) else {
            throw StoreError.corrupt("the ledger has no entry #\(seq)")
        }
        return try LedgerCheckpoint.sign(seq: seq, headHash: hash, at: clock.now(), with: signingKey)
    }

    /// Verifies the chain and what decisions read beside it, then proves the ledger extends each
    /// signed checkpoint (signed by `publicKey` when one is pinned).
    public func verifyLedger(checkpoints: [LedgerCheckpoint], publicKey: [UInt8]?) async throws -> LedgerAuditOutcome {
        let result = try await store.verifyLedger()
        var proofs: [LedgerAuditOutcome.Proof] = []
        for checkpoint in checkpoints {
            proofs.append(
                LedgerAuditOutcome.Proof(checkpoint: checkpoint, failure: try await whyNotExtended(checkpoint, publicKey: publicKey)))
        }
        return LedgerAuditOutcome(result: result, proofs: proofs)
    }

    /// Why the ledger does not extend `checkpoint`, or nil when it does.
    public func whyNotExtended(_ checkpoint: LedgerCheckpoint, publicKey: [UInt8]?) async throws -> String? {
        do {
            try checkpoint.verifySignature(publicKey: publicKey)
        } catch {
            return error.message
        }
        guard let hash = try await store.entryHash(seq: checkpoint.seq) else {
            return "the ledger has no entry #\(checkpoint.seq): it was cut back"
        }
        return hash == checkpoint.headHash ? nil : "entry #\(checkpoint.seq) no longer has the signed hash: the ledger was rewritten"
    }

    // MARK: Service keys

    /// Creates a key and returns it with its secret (shown once). - Throws: `duplicate_key`, `invalid_argument`.
    /// - Parameters:
    ///   - secret: the secret to give it (the demo derives its keys' secrets); a new random one by default.
    ///   - allowDemoName: whether a `demo-…` name is allowed (only `serve --demo` makes those).
    ///   - expiresInSeconds: how long the key lasts; forever by default.
    public func createKey(
        name: String, scopes: Set<ServiceScope>, secret given: String? = nil,
        allowDemoName: Bool = false, expiresInSeconds: Int64? = nil
    ) async throws -> (key: ServiceKey, secret: String) {
        if !(allowDemoName && ServiceKey.isDemoName(name)) { try ServiceKey.validateName(name) }
        try Self.checkLifetime(expiresInSeconds)
        let secret = given ?? ServiceKey.newSecret()
        let now = clock.now()
        let key = ServiceKey(
            name: name, secretSha256: ServiceKey.digest(ofSecret: secret), scopes: scopes, createdAt: now,
            expiresAt: expiresInSeconds.map { Instant(microseconds: now.microseconds + $0 * 1_000_000) })
        try await store.createServiceKey(key)
        return (key, secret)
    }

    /// Gives a key a new secret (returned, shown once); the old one keeps working for
    /// `overlapSeconds`. - Throws: `unknown_key`; `invalid_argument` for a revoked or expired key.
    /// - Parameter expiresInSeconds: the key's new lifetime; by default it keeps the one it had.
    public func rotateKey(named name: String, overlapSeconds: Int64, expiresInSeconds: Int64? = nil) async throws -> (
        key: ServiceKey, secret: String
    ) {
        try Self.checkLifetime(expiresInSeconds)
        guard let key = try await store.serviceKeys().first(where: { $0.name == name }) else {
            throw AssentError.unknownKey("no key is named \(name)")
        }
        let secret = ServiceKey.newSecret()
        let rotated = try key.rotated(
            newSecretSha256: ServiceKey.digest(ofSecret: secret), at: clock.now(), overlapSeconds: overlapSeconds,
            expiresInSeconds: expiresInSeconds)
        try await store.replaceServiceKey(rotated, expectedSecretSha256: key.secretSha256)
        return (rotated, secret)
    }

    /// What a presented key secret is worth now: the key it authenticates, or why it is refused.
    /// A use is recorded as the key's last (at most once a minute).
    public func authenticateKey(secret: String) async throws -> KeyCheck {
        let digest = ServiceKey.digest(ofSecret: secret)
        guard let key = try await store.serviceKey(secretSha256: digest) else { return .refused("unknown service key") }
        let now = clock.now()
        if let refusal = key.refusal(secretSha256: digest, at: now) { return .refused(refusal) }
        let due = keyUses.withLock { uses -> Bool in
            if let last = uses[key.name], now.microseconds - last < ServiceKey.lastUseResolution { return false }
            uses[key.name] = now.microseconds
            return true
        }
        if due { try await store.recordServiceKeyUse(named: key.name, at: now) }
        return .accepted(key)
    }

    /// Every key, revoked ones included, by name.
    public func keys() async throws -> [ServiceKey] { try await store.serviceKeys() }

    /// The key of this name, revoked or not (nil: none): one row, where ``keys()`` reads them all.
    public func key(named name: String) async throws -> ServiceKey? { try await store.serviceKey(named: name) }

    /// Revokes a key. - Throws: `unknown_key`.
    public func revokeKey(named name: String) async throws -> ServiceKey {
        try await store.revokeServiceKey(named: name, now: clock.now())
    }

    /// - Throws: `invalid_argument` for a key lifetime that is not positive.
    private static func checkLifetime(_ seconds: Int64?) throws(AssentError) {
        if let seconds, seconds <= 0 { throw .invalidArgument("a key's lifetime must be positive") }
    }

    /// What ``authenticateKey(secret:)`` found.
    public enum KeyCheck: Sendable {
        case accepted(ServiceKey)
        /// Why not, in words for the caller.
        case refused(String)
    }

    /// The key a secret names, revoked or not.
    public func key(forSecret secret: String) async throws -> ServiceKey? {
        try await key(secretSha256: ServiceKey.digest(ofSecret: secret))
    }

    /// The key whose secret has this SHA-256 (hex), revoked or not.
    public func key(secretSha256 digest: String) async throws -> ServiceKey? {
        try await store.serviceKey(secretSha256: digest)
    }

    /// Takes one token of `account`'s `bucket` at `now` (the user routes' rate limits): from the
    /// bucket every server of the database shares on PostgreSQL, this process's on SQLite.
    /// - Returns: nil when taken, else the whole seconds until one is there.
    public func takeUserToken(account: AccountID, bucket: RateBucket, rate: TokenRate, now: Instant) async throws -> Int? {
        try await store.takeToken(account: account, bucket: bucket, rate: rate, now: now)
    }

    /// Ends a page session before its cookie expires (sign-out): the cookie, whoever holds a copy
    /// of it, opens nothing from then on — on this server at once, on the other servers of the
    /// database within ``SessionEndings/maxAge`` (a second).
    public func endSession(digest: String, expiresAt: Instant) async throws {
        try await store.endSession(digest: digest, expiresAt: expiresAt, now: clock.now())
        await sessionEndings.note(digest: digest, expiresAt: expiresAt)
    }

    /// Ends every page session of `account` opened until now ("sign out everywhere"), on every
    /// server as ``endSession(digest:expiresAt:)`` does; kept until `lifetime` (a session's longest)
    /// from now. Sessions opened afterwards are not touched.
    /// - Returns: the instant sessions opened at or before it were ended.
    /// - Throws: `unknown_account` (nothing is kept for an account that does not exist).
    @discardableResult
    public func endAccountSessions(_ account: AccountID, lifetime: Duration) async throws -> Instant {
        try await endAccount(account, lifetime: lifetime, tokens: false)
    }

    /// Signs `account` out everywhere (`DELETE /v1/me/sessions`, the product's
    /// `DELETE /v1/accounts/{account}/sessions`, the pages' button): every page session opened
    /// until now ends (``endAccountSessions(_:lifetime:)``), and so does every user token issued
    /// until now (by its `iat`; a token without one cannot show it is newer) — on every server as
    /// a sign-out does, for ``userTokenEndingLifetime``. A copy of a token taken by someone else
    /// neither calls the API nor opens a new page session; the user signs in again for a new one.
    /// A deletion does not end tokens: a deleted account's token goes on being answered
    /// `account_deleted` and reading its export.
    /// - Returns: the instant sessions opened and tokens issued at or before it were ended.
    /// - Throws: `unknown_account`.
    @discardableResult
    public func signOutEverywhere(_ account: AccountID) async throws -> Instant {
        try await endAccount(account, lifetime: max(Self.pageSessionLifetime, Self.userTokenEndingLifetime), tokens: true)
    }

    private func endAccount(_ account: AccountID, lifetime: Duration, tokens: Bool) async throws -> Instant {
        _ = try await existingTimeline(of: account)
        let now = clock.now()
        let expiresAt = Self.expiry(from: now, lifetime: lifetime)
        let tokensBefore = tokens ? now : nil
        try await store.endAccountSessions(account: account, before: now, tokensBefore: tokensBefore, expiresAt: expiresAt, now: now)
        await sessionEndings.note(
            EndedAccountSessions(account: account, before: now, tokensBefore: tokensBefore, expiresAt: expiresAt, endedAt: 0))
        return now
    }

    /// Whether the page session of `account` whose cookie has this digest and was opened at
    /// `openedAt` (nil when the cookie does not say) was ended — by a sign-out
    /// (``endSession(digest:expiresAt:)``) or with every session of the account
    /// (``endAccountSessions(_:lifetime:)``) — from this server's copy of the list, brought up to
    /// date when older than a second.
    public func isSessionEnded(digest: String, account: AccountID, openedAt: Instant?) async throws -> Bool {
        try await sessionEndings.isEnded(digest: digest, account: account, openedAt: openedAt, now: clock.now())
    }

    /// Whether the account is deleted (its timeline's deletion at or before now, as the rules ask).
    public func isDeleted(_ account: AccountID) async throws -> Bool {
        guard let timeline = try await store.timeline(of: account) else { return false }
        return timeline.deletion(notAfter: .endOf(clock.now())) != nil
    }

    /// Whether a user token of `account` issued at `issuedAt` (its `iat`; nil when it has none)
    /// was ended by a sign-out everywhere (``signOutEverywhere(_:)``), from this server's copy of
    /// the list as ``isSessionEnded(digest:account:openedAt:)`` reads it.
    public func isUserTokenEnded(account: AccountID, issuedAt: Instant?) async throws -> Bool {
        try await sessionEndings.isTokenEnded(account: account, issuedAt: issuedAt, now: clock.now())
    }

    /// Whether the session whose cookie has this digest was signed out (a console session: no
    /// account's ending touches it).
    public func isSessionEnded(digest: String) async throws -> Bool {
        try await sessionEndings.isEnded(digest: digest, account: nil, openedAt: nil, now: clock.now())
    }

    /// A secret of this deployment (from the secrets file when one is configured).
    public func deploymentKey(named name: String, secrets: DeploymentSecrets = .inDatabase) async throws -> [UInt8] {
        try await secrets.key(named: name, store: store)
    }

    // MARK: The console's figures

    /// Choices, deferrals, purges and pending notices by day, as of `at` (now by default).
    public func dashboard(at instant: Instant? = nil) async throws -> Dashboard {
        try await Dashboard.compute(store: store, at: instant ?? clock.now())
    }

    /// The dashboard as every server of the database shares it: the stored figures when they are
    /// exact for the ledger's newest entry, or when behind but not yet due again (`pacing`); else
    /// computed by this server under the lease (and stored for the others); while another server
    /// holds the lease, the stored figures even if behind (computed here only when none were ever
    /// stored).
    public func sharedDashboard(pacing: DashboardPacing = DashboardPacing()) async throws -> Dashboard {
        let head = try await store.lastSeq()
        if let stored = try await store.storedFigures(named: Dashboard.figuresName),
            let dashboard = try? Dashboard(storedText: stored.text),
            stored.asOfSeq == head || clock.now() < pacing.nextComputation(after: dashboard)
        {
            return dashboard
        }
        let computed = try await store.computeFigures(named: Dashboard.figuresName) { [self] in
            let dashboard = try await self.dashboard()
            return StoredFigures(asOfSeq: dashboard.asOfSeq, text: dashboard.storedText)
        }
        if let computed { return try Dashboard(storedText: computed.text) }
        if let stored = try await store.storedFigures(named: Dashboard.figuresName), let dashboard = try? Dashboard(storedText: stored.text)
        {
            return dashboard
        }
        return try await dashboard()
    }
}

/// `ledger verify`'s answer: the chain's verification and each checkpoint's proof.
public struct LedgerAuditOutcome: Sendable {
    public struct Proof: Sendable {
        public var checkpoint: LedgerCheckpoint
        /// Why the ledger does not extend the checkpoint; nil when it does.
        public var failure: String?
    }

    public var result: LedgerVerification
    public var proofs: [Proof]
}

/// What accept-and-choose recorded.
public struct Acceptance: Sendable {
    public var account: AccountID
    public var at: Instant
    public var termsVersion: String
    public var training: ChoiceValue
    public var records: [LedgerRecord]
    /// The events `records` hold, in their order.
    public var events: [Event]
}

/// What a user's single write recorded.
public struct Recorded: Sendable {
    public var account: AccountID
    public var at: Instant
    public var records: [LedgerRecord]
    /// The events `records` hold, in their order.
    public var events: [Event]
}

/// One page of an account's conversations, most recent activity first: those whose last activity
/// comes before `before` (the cursor a previous page ended with, ``ConversationList/olderBefore``;
/// from the most recent when nil), at most `limit` of them (every one when nil).
public struct ConversationPage: Sendable {
    public var before: ConversationCursor?
    public var limit: Int?

    public static let maximumLimit = 1_000

    public init(before: ConversationCursor? = nil, limit: Int? = nil) {
        self.before = before
        self.limit = limit
    }
}

/// Where a page of conversations ended: the last activity (its instant and ledger entry) of the
/// page's last conversation. Written `MICROSECONDS.SEQ`; a conversation active since a page was
/// read moves to the front of the list, so a walk through the pages does not see it again.
public struct ConversationCursor: Sendable, Equatable {
    public var stamp: Stamp

    public init(stamp: Stamp) { self.stamp = stamp }

    /// Reads a cursor as ``text`` writes it (an instant before 1970 is negative); nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let digits = { (part: Substring) in !part.isEmpty && part.utf8.allSatisfy { (0x30...0x39).contains($0) } }
        guard parts.count == 2, digits(parts[0].hasPrefix("-") ? parts[0].dropFirst() : parts[0]), digits(parts[1]),
            let micros = Int64(parts[0]), let seq = Int64(parts[1]), seq > 0
        else { return nil }
        stamp = Stamp(at: Instant(microseconds: micros), seq: seq)
    }

    public var text: String { "\(stamp.at.microseconds).\(stamp.seq)" }
}

/// A page of an account's conversations (``ConversationPage``) and where the next one starts.
public struct ConversationList: Sendable {
    public var account: AccountID
    public var at: Instant
    public var statuses: [ConversationStatus]
    /// The cursor of the next page, nil when this page holds the oldest conversation.
    public var olderBefore: ConversationCursor?
}

/// One page of a user's choices, newest last: the `limit` choices before ledger entry `before`
/// (the newest when nil).
public struct ChoicePage: Sendable {
    public var before: Int64?
    public var limit = 50

    public static let maximumLimit = 500

    public init(before: Int64? = nil, limit: Int = 50) {
        self.before = before
        self.limit = limit
    }
}

/// What privacy settings show.
public struct AccountSettings: Sendable {
    public struct Choice: Sendable {
        public var seq: Int64
        public var at: Instant
        public var value: ChoiceValue
        public var source: ChoiceSource
        public var shownDefault: ChoiceValue?
        /// The request carried the Global Privacy Control signal.
        public var gpc: Bool
        /// `user`, `service` or `operator`: never a key's or a person's name.
        public var actorKind: String
    }

    public var account: AccountID
    public var at: Instant
    /// The choice in force, nil before any.
    public var training: ChoiceValue?
    /// The terms accepted last, nil before any.
    public var termsVersion: String?
    /// The retention new activity gets now.
    public var retention: (period: RetentionPeriod, rule: RetentionRule)
    /// The policy in force now (what the page explains).
    public var policy: Policy
    /// One page of the choices, oldest first.
    public var choices: [Choice]
    /// The seq to ask for the next (older) page, when there is one.
    public var olderBefore: Int64?
}
