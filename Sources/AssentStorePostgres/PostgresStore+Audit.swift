public import AssentCore
public import AssentStore
import Logging
import NIOCore
import PostgresNIO

// `ledger verify` (on one snapshot), service keys and the deployment's secrets.
extension PostgresStore {
    public func verifyLedger() async throws -> LedgerVerification {
        let logger = self.logger
        return try await transaction(.snapshot) { connection in
            try await connection.perform("SET LOCAL statement_timeout = 0", logger: logger)
            var previous = LedgerChain.genesis
            var expected: Int64 = 1
            var failure: LedgerVerification?
            for try await (seq, at, actor, kind, account, body, digest, stored, enc) in try await connection.perform(
                "SELECT seq, at, actor, kind, account, body, content_sha256, hash, enc FROM ledger ORDER BY seq", logger: logger
            ).decode((Int64, Int64, String, String, String?, String, String?, ByteBuffer, ByteBuffer?).self) {
                guard failure == nil else { continue }
                if seq != expected {
                    failure = LedgerVerification(
                        ok: false, entries: Int(expected - 1), brokenAt: expected, reason: "entry #\(expected) is missing")
                    continue
                }
                let record = LedgerRecord(
                    seq: seq, at: Instant(microseconds: at), actor: actor, kind: kind, account: account, body: body, contentSha256: digest)
                switch LedgerCodec.verify(record, storedHash: Array(buffer: stored), previous: previous) {
                case .sound(let hash): previous = hash
                case .broken(let reason):
                    failure = LedgerVerification(ok: false, entries: Int(seq - 1), brokenAt: seq, reason: reason)
                    continue
                }
                if let account {
                    let encoded = try? Self.event(enc, account: account, seq: seq)
                    guard let encoded, encoded == (try? LedgerCodec.event(seq: seq, body: body)) else {
                        failure = LedgerVerification(
                            ok: false, entries: Int(seq - 1), brokenAt: seq, reason: "entry #\(seq)'s enc does not match its body")
                        continue
                    }
                }
                expected += 1
            }
            if let failure { return failure }
            let head = try await Self.head(connection, logger: logger)
            let entries = Int(expected - 1)
            if head.lastSeq != expected - 1 || head.lastHash != previous {
                return LedgerVerification(
                    ok: false, entries: entries, brokenAt: expected - 1, reason: "the ledger head does not match its last entry")
            }
            if let (seq, reason) = try await Self.checkBesideChain(connection, logger: logger) {
                return LedgerVerification(ok: false, entries: entries, brokenAt: seq, reason: reason)
            }
            return LedgerVerification(ok: true, entries: entries)
        }
    }

    /// What decisions read beside the chain, checked against the verified ledger (the same
    /// checks as the SQLite store's).
    static func checkBesideChain(_ connection: PostgresConnection, logger: Logger) async throws -> (Int64, String)? {
        var versions = 0
        var mismatch: (Int64, String)?
        for try await (seq, from, document, kind, at, body) in try await connection.perform(
            """
            SELECT p.seq, p.effective_from, p.document, l.kind, l.at, l.body FROM policy_versions p LEFT JOIN ledger l ON l.seq = p.seq ORDER BY p.seq
            """, logger: logger
        ).decode((Int64, Int64, String, String?, Int64?, String?).self) {
            versions += 1
            if mismatch == nil, kind != LedgerRecordKind.policyApplied.rawValue || at != from || body != document {
                mismatch = (seq, "policy version #\(seq) does not match its ledger entry")
            }
        }
        if let mismatch { return mismatch }
        let applied =
            try await connection.perform(
                "SELECT count(*) FROM ledger WHERE kind = \(LedgerRecordKind.policyApplied.rawValue)", logger: logger
            )
            .collect().first?.decode(Int.self) ?? 0
        if applied != versions { return (0, "\(applied) policy entries in the ledger, \(versions) policy versions in force") }
        for try await (id, account, seq, kind, owner, body) in try await connection.perform(
            """
            SELECT c.id, c.account, c.first_seq, l.kind, l.account, l.body FROM conversations c LEFT JOIN ledger l ON l.seq = c.first_seq
            """, logger: logger
        ).decode((String, String, Int64, String?, String?, String?).self) {
            guard mismatch == nil else { continue }
            guard kind == EventType.conversationActivity.rawValue, owner == account, let body,
                (try? LedgerCodec.event(seq: seq, body: body))?.conversation == id
            else {
                mismatch = (seq, "conversation \(id)'s owner does not match the entry that created it")
                continue
            }
        }
        if let mismatch { return mismatch }
        for try await (id, account, conversation, seq, kind, owner, body) in try await connection.perform(
            """
            SELECT f.id, f.account, f.conversation, f.seq, l.kind, l.account, l.body FROM feedback f LEFT JOIN ledger l ON l.seq = f.seq
            """, logger: logger
        ).decode((String, String, String, Int64, String?, String?, String?).self) {
            guard mismatch == nil else { continue }
            guard kind == EventType.feedbackSubmitted.rawValue, owner == account, let body,
                let event = try? LedgerCodec.event(seq: seq, body: body),
                case .feedbackSubmitted(let c, let f, _, _) = event.body, f == id, c == conversation
            else {
                mismatch = (seq, "feedback \(id)'s owner does not match the entry that created it")
                continue
            }
        }
        if let mismatch { return mismatch }
        if let row = try await connection.perform(
            """
            SELECT l.account, l.newest FROM (SELECT account, max(seq) AS newest FROM ledger WHERE account IS NOT NULL GROUP BY account) l
            LEFT JOIN accounts a ON a.account = l.account WHERE a.last_seq IS NULL OR a.last_seq != l.newest LIMIT 1
            """, logger: logger
        ).collect().first {
            let (account, newest) = try row.decode((String, Int64).self)
            return (newest, "account \(account)'s head does not name its newest entry")
        }
        if let row = try await connection.perform(
            "SELECT account FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE l.account = a.account) LIMIT 1", logger: logger
        ).collect().first {
            return (0, "account \(try row.decode(String.self))'s head names no entry")
        }
        for try await (seq, text, account, digest, owner) in try await connection.perform(
            """
            SELECT c.seq, c.text, c.account, l.content_sha256, l.account FROM content c LEFT JOIN ledger l ON l.seq = c.seq ORDER BY c.seq
            """, logger: logger
        ).decode((Int64, String, String, String?, String?).self) {
            guard mismatch == nil else { continue }
            guard let digest, digest == Digest.sha256Hex(text), owner == account else {
                mismatch = (seq, "the stored text of entry #\(seq) does not match its digest")
                continue
            }
        }
        return mismatch
    }

    public func entryHash(seq: Int64) async throws -> [UInt8]? {
        try await rows("SELECT hash FROM ledger WHERE seq = \(seq)").first.map { Array(buffer: try $0.decode(ByteBuffer.self)) }
    }

    public func content(ofEntry seq: Int64) async throws -> String? {
        try await rows("SELECT text FROM content WHERE seq = \(seq)").first?.decode(String.self)
    }

    // MARK: Service keys

    static func serviceKey(_ row: PostgresRow) throws -> ServiceKey {
        let (name, sha, scopes, created, revoked, expires, rotated, previous, previousExpires, lastUsed) = try row.decode(
            (String, String, String, Int64, Int64?, Int64?, Int64?, String?, Int64?, Int64?).self)
        return ServiceKey(
            name: name, secretSha256: sha, scopes: Set(try scopes.split(separator: " ").map { try ServiceScope.parse(String($0)) }),
            createdAt: Instant(microseconds: created), revokedAt: revoked.map(Instant.init(microseconds:)),
            expiresAt: expires.map(Instant.init(microseconds:)), rotatedAt: rotated.map(Instant.init(microseconds:)),
            previousSecretSha256: previous, previousSecretExpiresAt: previousExpires.map(Instant.init(microseconds:)),
            lastUsedAt: lastUsed.map(Instant.init(microseconds:)))
    }

    static let keyColumns = """
        name, secret_sha256, scopes, created_at, revoked_at, expires_at, rotated_at, previous_secret_sha256, \
        previous_expires_at, last_used_at
        """

    /// `$1`… `$10` in ``keyColumns``' order.
    static func keyBinds(_ key: ServiceKey) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(key.name)
        binds.append(key.secretSha256)
        binds.append(key.scopes.sorted().map(\.rawValue).joined(separator: " "))
        binds.append(key.createdAt.microseconds)
        binds.append(key.revokedAt?.microseconds)
        binds.append(key.expiresAt?.microseconds)
        binds.append(key.rotatedAt?.microseconds)
        binds.append(key.previousSecretSha256)
        binds.append(key.previousSecretExpiresAt?.microseconds)
        binds.append(key.lastUsedAt?.microseconds)
        return binds
    }

    public func createServiceKey(_ key: ServiceKey) async throws {
        let query = PostgresQuery(
            unsafeSQL: """
                INSERT INTO service_keys (\(Self.keyColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                ON CONFLICT (name) DO NOTHING RETURNING 1
                """, binds: Self.keyBinds(key))
        if try await rows(query).isEmpty { throw AssentError.duplicateKey("a key named \(key.name) exists already") }
    }

    public func replaceServiceKey(_ key: ServiceKey, expectedSecretSha256: String) async throws {
        var binds = Self.keyBinds(key)
        binds.append(expectedSecretSha256)
        let query = PostgresQuery(
            unsafeSQL: """
                UPDATE service_keys SET secret_sha256 = $2, scopes = $3, created_at = $4, revoked_at = $5, expires_at = $6,
                    rotated_at = $7, previous_secret_sha256 = $8, previous_expires_at = $9, last_used_at = $10
                WHERE name = $1 AND secret_sha256 = $11 RETURNING 1
                """, binds: binds)
        if try await rows(query).isEmpty {
            var exists = PostgresQuery(unsafeSQL: "SELECT 1 FROM service_keys WHERE name = $1")
            exists.binds.append(key.name)
            guard try await !rows(exists).isEmpty else { throw AssentError.unknownKey("no key is named \(key.name)") }
            throw AssentError.invalidArgument("key \(key.name) was rotated meanwhile: list the keys and try again")
        }
    }

    public func recordServiceKeyUse(named name: String, at instant: Instant) async throws {
        var query = PostgresQuery(
            unsafeSQL: """
                UPDATE service_keys SET last_used_at = $1 WHERE name = $2 AND (last_used_at IS NULL OR last_used_at <= $3)
                """)
        query.binds.append(instant.microseconds)
        query.binds.append(name)
        query.binds.append(instant.microseconds - ServiceKey.lastUseResolution)
        _ = try await rows(query)
    }

    public func serviceKeys() async throws -> [ServiceKey] {
        try await rows(PostgresQuery(unsafeSQL: "SELECT \(Self.keyColumns) FROM service_keys ORDER BY name")).map(Self.serviceKey)
    }

    public func serviceKey(named name: String) async throws -> ServiceKey? {
        var query = PostgresQuery(unsafeSQL: "SELECT \(Self.keyColumns) FROM service_keys WHERE name = $1")
        query.binds.append(name)
        return try await rows(query).first.map(Self.serviceKey)
    }

    public func revokeServiceKey(named name: String, now: Instant) async throws -> ServiceKey {
        var query = PostgresQuery(
            unsafeSQL: """
                UPDATE service_keys SET revoked_at = coalesce(revoked_at, $1) WHERE name = $2 RETURNING \(Self.keyColumns)
                """)
        query.binds.append(now.microseconds)
        query.binds.append(name)
        guard let row = try await rows(query).first else { throw AssentError.unknownKey("no key is named \(name)") }
        return try Self.serviceKey(row)
    }

    public func serviceKey(secretSha256: String) async throws -> ServiceKey? {
        var query = PostgresQuery(
            unsafeSQL: "SELECT \(Self.keyColumns) FROM service_keys WHERE secret_sha256 = $1 OR previous_secret_sha256 = $1")
        query.binds.append(secretSha256)
        return try await rows(query).first.map(Self.serviceKey)
    }

    static let figuresLockSpace: Int32 = 0x4153_0003

    public func endSession(digest: String, expiresAt: Instant, now: Instant) async throws {
        _ = try await rows(
            """
            WITH forgotten AS (DELETE FROM ended_sessions WHERE expires_at <= \(now.microseconds))
            INSERT INTO ended_sessions (digest, expires_at) VALUES (\(digest), \(expiresAt.microseconds)) ON CONFLICT (digest) DO NOTHING
            """)
    }

    public func endedSessions(since: Int64?) async throws -> [EndedSession] {
        try await rows("SELECT digest, expires_at, ended_at FROM ended_sessions WHERE ended_at >= \(since ?? Int64.min)").map {
            let (digest, expiresAt, endedAt) = try $0.decode((String, Int64, Int64).self)
            return EndedSession(digest: digest, expiresAt: Instant(microseconds: expiresAt), endedAt: endedAt)
        }
    }

    public func endAccountSessions(account: AccountID, before: Instant, tokensBefore: Instant?, expiresAt: Instant, now: Instant)
        async throws
    {
        // greatest() ignores a NULL: the tokens' instant keeps the one that is set.
        _ = try await rows(
            """
            WITH forgotten AS (DELETE FROM ended_account_sessions WHERE expires_at <= \(now.microseconds) AND account <> \(account))
            INSERT INTO ended_account_sessions AS e (account, ended_before, tokens_before, expires_at)
            VALUES (\(account), \(before.microseconds), \(tokensBefore?.microseconds), \(expiresAt.microseconds))
            ON CONFLICT (account) DO UPDATE SET ended_before = greatest(e.ended_before, excluded.ended_before),
                tokens_before = greatest(e.tokens_before, excluded.tokens_before),
                expires_at = greatest(e.expires_at, excluded.expires_at), ended_at = excluded.ended_at
            """)
    }

    public func endAccountSessions(accounts: [AccountID], before: Instant, expiresAt: Instant, now: Instant) async throws {
        guard !accounts.isEmpty else { return }
        // DISTINCT: an account twice in one INSERT … ON CONFLICT DO UPDATE is an error.
        _ = try await rows(
            """
            WITH forgotten AS (
                DELETE FROM ended_account_sessions WHERE expires_at <= \(now.microseconds) AND account <> ALL(\(accounts)::text[]))
            INSERT INTO ended_account_sessions AS e (account, ended_before, expires_at)
            SELECT DISTINCT a, \(before.microseconds)::bigint, \(expiresAt.microseconds)::bigint FROM unnest(\(accounts)::text[]) AS a
            ON CONFLICT (account) DO UPDATE SET ended_before = greatest(e.ended_before, excluded.ended_before),
                expires_at = greatest(e.expires_at, excluded.expires_at), ended_at = excluded.ended_at
            """)
    }

    public func endedAccountSessions(since: Int64?) async throws -> [EndedAccountSessions] {
        try await rows(
            """
            SELECT account, ended_before, tokens_before, expires_at, ended_at FROM ended_account_sessions
            WHERE ended_at >= \(since ?? Int64.min)
            """
        ).map {
            let (account, before, tokensBefore, expiresAt, endedAt) = try $0.decode((String, Int64, Int64?, Int64, Int64).self)
            return EndedAccountSessions(
                account: account, before: Instant(microseconds: before), tokensBefore: tokensBefore.map(Instant.init(microseconds:)),
                expiresAt: Instant(microseconds: expiresAt), endedAt: endedAt)
        }
    }

    public func storedFigures(named name: String) async throws -> StoredFigures? {
        try await rows("SELECT as_of_seq, text FROM shared_figures WHERE name = \(name)").first.map {
            let (seq, text) = try $0.decode((Int64, String).self)
            return StoredFigures(asOfSeq: seq, text: text)
        }
    }

    /// The lease is a session advisory lock held on one connection while `compute` runs on
    /// others: released at the end, or by PostgreSQL when the server holding it dies.
    public func computeFigures(named name: String, _ compute: @escaping @Sendable () async throws -> StoredFigures) async throws
        -> StoredFigures?
    {
        let logger = self.logger
        return try await connection { connection in
            let held = try await connection.perform(
                "SELECT pg_try_advisory_lock(\(Self.figuresLockSpace)::integer, hashtext(\(name)))", logger: logger
            ).collect().first?.decode(Bool.self)
            guard held == true else { return nil }
            do {
                let figures = try await compute()
                try await connection.perform(
                    """
                    INSERT INTO shared_figures (name, as_of_seq, text, computed_at)
                    VALUES (\(name), \(figures.asOfSeq), \(figures.text), \(Self.wallClockMicros()))
                    ON CONFLICT (name) DO UPDATE SET as_of_seq = excluded.as_of_seq, text = excluded.text, computed_at = excluded.computed_at
                    WHERE excluded.as_of_seq >= shared_figures.as_of_seq
                    """, logger: logger)
                try await connection.perform(
                    "SELECT pg_advisory_unlock(\(Self.figuresLockSpace)::integer, hashtext(\(name)))", logger: logger)
                return figures
            } catch {
                _ = try? await connection.perform(
                    "SELECT pg_advisory_unlock(\(Self.figuresLockSpace)::integer, hashtext(\(name)))", logger: logger)
                throw error
            }
        }
    }

    /// How often each store instance drops the buckets that are full again, at most.
    static let rateBucketsCleanupMicros: Int64 = 60_000_000

    /// One prepared statement takes the token (``TakeTokenStatement``): every server of the
    /// database takes from the one row of the account in the bucket's table. About once a minute,
    /// this instance also drops that table's buckets full again (as good as absent) — with a
    /// minute's margin for servers' clocks.
    public func takeToken(account: AccountID, bucket: RateBucket, rate: TokenRate, now: Instant) async throws -> Int? {
        switch bucket {
        case .writes: try await takeToken(WriteBucketTable.self, account: account, rate: rate, now: now)
        case .reads: try await takeToken(ReadBucketTable.self, account: account, rate: rate, now: now)
        }
    }

    private func takeToken<Table: RateBucketTable>(
        _: Table.Type, account: AccountID, rate: TokenRate, now: Instant
    ) async throws -> Int? {
        let at = now.microseconds
        let logger = self.logger
        let row = try await connection { connection in
            var taken: TakeTokenStatement<Table>.Row?
            for try await row in try await connection.perform(
                TakeTokenStatement<Table>(account: account, rate: rate, now: at), logger: logger)
            {
                taken = row
            }
            return taken
        }
        guard let (tokens, taken) = row else {
            throw StoreError.corrupt("the \(Table.bucket.rawValue) bucket of \(account) was not written")
        }
        let due = rateBucketsCleanedAt.withLock { cleaned in
            let last = cleaned[Table.bucket, default: 0]
            guard at - last >= Self.rateBucketsCleanupMicros || at < last else { return false }
            cleaned[Table.bucket] = at
            return true
        }
        if due {
            do {
                var full = PostgresQuery(unsafeSQL: "DELETE FROM \(Table.table) WHERE updated < $1")
                full.binds.append(at - rate.refillMicros - Self.rateBucketsCleanupMicros)
                _ = try await rows(full)
            } catch {
                logger.warning("could not drop full rate buckets: \(error)")
            }
        }
        return taken ? nil : TokenBucket.wait(tokens: tokens, rate)
    }

    /// Created at random by whichever server asks first (`ON CONFLICT DO NOTHING`), then read:
    /// every server of one database gets the same secret.
    public func deploymentKey(named name: String) async throws -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        _ = try await rows(
            """
            INSERT INTO deployment_keys (name, key, created_at) VALUES (\(name), \(ByteBuffer(bytes: key)), \(Self.wallClockMicros()))
            ON CONFLICT (name) DO NOTHING
            """)
        guard let row = try await rows("SELECT key FROM deployment_keys WHERE name = \(name)").first else {
            throw StoreError.corrupt("deployment key \(name) vanished")
        }
        return Array(buffer: try row.decode(ByteBuffer.self))
    }
}
