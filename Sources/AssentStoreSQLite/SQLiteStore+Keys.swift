public import AssentCore
public import AssentStore
import Foundation
import GRDB

// Service keys, idempotency keys and the deployment's secrets.
extension SQLiteStore {
    // MARK: Service keys

    static func serviceKey(_ row: Row) throws -> ServiceKey {
        let scopes = try (row["scopes"] as String).split(separator: " ").map { try ServiceScope.parse(String($0)) }
        func instant(_ column: String) -> Instant? { (row[column] as Int64?).map(Instant.init(microseconds:)) }
        return ServiceKey(
            name: row["name"], secretSha256: row["secret_sha256"], scopes: Set(scopes),
            createdAt: Instant(microseconds: row["created_at"]), revokedAt: instant("revoked_at"), expiresAt: instant("expires_at"),
            rotatedAt: instant("rotated_at"), previousSecretSha256: row["previous_secret_sha256"],
            previousSecretExpiresAt: instant("previous_expires_at"), lastUsedAt: instant("last_used_at"))
    }

    static func keyArguments(_ key: ServiceKey) -> StatementArguments {
        [
            key.secretSha256, key.scopes.sorted().map(\.rawValue).joined(separator: " "), key.createdAt.microseconds,
            key.revokedAt?.microseconds, key.expiresAt?.microseconds, key.rotatedAt?.microseconds, key.previousSecretSha256,
            key.previousSecretExpiresAt?.microseconds, key.lastUsedAt?.microseconds, key.name,
        ]
    }

    public func createServiceKey(_ key: ServiceKey) async throws {
        try await writing { db in
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM service_keys WHERE name = ?", arguments: [key.name]) == 0 else {
                throw AssentError.duplicateKey("a key named \(key.name) exists already")
            }
            try db.execute(
                sql: """
                    INSERT INTO service_keys (secret_sha256, scopes, created_at, revoked_at, expires_at, rotated_at,
                        previous_secret_sha256, previous_expires_at, last_used_at, name)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: Self.keyArguments(key))
        }
    }

    public func serviceKeys() async throws -> [ServiceKey] {
        try await reading { db in try Row.fetchAll(db, sql: "SELECT * FROM service_keys ORDER BY name").map(Self.serviceKey) }
    }

    public func serviceKey(named name: String) async throws -> ServiceKey? {
        try await reading { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM service_keys WHERE name = ?"), arguments: [name]).map(Self.serviceKey)
        }
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
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM service_keys WHERE secret_sha256 = ? OR previous_secret_sha256 = ?"),
                arguments: [secretSha256, secretSha256]
            ).map(Self.serviceKey)
        }
    }

    public func replaceServiceKey(_ key: ServiceKey, expectedSecretSha256: String) async throws {
        try await writing { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM service_keys WHERE name = ?", arguments: [key.name]) else {
                throw AssentError.unknownKey("no key is named \(key.name)")
            }
            guard try Self.serviceKey(row).secretSha256 == expectedSecretSha256 else {
                throw AssentError.invalidArgument("key \(key.name) was rotated meanwhile: list the keys and try again")
            }
            try db.execute(
                sql: """
                    UPDATE service_keys SET secret_sha256 = ?, scopes = ?, created_at = ?, revoked_at = ?, expires_at = ?,
                        rotated_at = ?, previous_secret_sha256 = ?, previous_expires_at = ?, last_used_at = ?
                    WHERE name = ?
                    """, arguments: Self.keyArguments(key))
        }
    }

    public func recordServiceKeyUse(named name: String, at instant: Instant) async throws {
        try await writing { db in
            try db.execute(
                sql: "UPDATE service_keys SET last_used_at = ? WHERE name = ? AND (last_used_at IS NULL OR last_used_at <= ?)",
                arguments: [instant.microseconds, name, instant.microseconds - ServiceKey.lastUseResolution])
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

    /// In this process's memory: a SQLite file is served by one server, and a table would add a
    /// write transaction to every user write.
    public func takeToken(account: AccountID, bucket: RateBucket, rate: TokenRate, now: Instant) async throws -> Int? {
        switch bucket {
        case .writes: writeBuckets.take(account: account, rate: rate, now: now)
        case .reads: readBuckets.take(account: account, rate: rate, now: now)
        }
    }

    public func endSession(digest: String, expiresAt: Instant, now: Instant) async throws {
        try await writing { db in
            try db.execute(sql: "DELETE FROM ended_sessions WHERE expires_at <= ?", arguments: [now.microseconds])
            try db.execute(
                sql: "INSERT OR IGNORE INTO ended_sessions (digest, expires_at, ended_at) VALUES (?, ?, ?)",
                arguments: [digest, expiresAt.microseconds, now.microseconds])
        }
    }

    public func endedSessions(since: Int64?) async throws -> [EndedSession] {
        try await reading { db in
            try Row.fetchAll(
                db, sql: "SELECT digest, expires_at, ended_at FROM ended_sessions WHERE ended_at >= ?", arguments: [since ?? Int64.min]
            ).map { EndedSession(digest: $0[0], expiresAt: Instant(microseconds: $0[1]), endedAt: $0[2]) }
        }
    }

    public func endAccountSessions(account: AccountID, before: Instant, tokensBefore: Instant?, expiresAt: Instant, now: Instant)
        async throws
    {
        try await writing { db in
            try db.execute(sql: "DELETE FROM ended_account_sessions WHERE expires_at <= ?", arguments: [now.microseconds])
            // SQLite's max() of a NULL is NULL: the tokens' instant keeps the one that is set.
            try db.execute(
                sql: """
                    INSERT INTO ended_account_sessions (account, ended_before, tokens_before, expires_at, ended_at)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (account) DO UPDATE SET ended_before = max(ended_before, excluded.ended_before),
                        tokens_before = max(coalesce(tokens_before, excluded.tokens_before),
                            coalesce(excluded.tokens_before, tokens_before)),
                        expires_at = max(expires_at, excluded.expires_at), ended_at = excluded.ended_at
                    """,
                arguments: [account, before.microseconds, tokensBefore?.microseconds, expiresAt.microseconds, now.microseconds])
        }
    }

    public func endAccountSessions(accounts: [AccountID], before: Instant, expiresAt: Instant, now: Instant) async throws {
        guard !accounts.isEmpty else { return }
        try await writing { db in
            try db.execute(sql: "DELETE FROM ended_account_sessions WHERE expires_at <= ?", arguments: [now.microseconds])
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO ended_account_sessions (account, ended_before, expires_at, ended_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (account) DO UPDATE SET ended_before = max(ended_before, excluded.ended_before),
                        expires_at = max(expires_at, excluded.expires_at), ended_at = excluded.ended_at
                    """)
            for account in accounts {
                try statement.execute(arguments: [account, before.microseconds, expiresAt.microseconds, now.microseconds])
            }
        }
    }

    public func endedAccountSessions(since: Int64?) async throws -> [EndedAccountSessions] {
        try await reading { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT account, ended_before, tokens_before, expires_at, ended_at FROM ended_account_sessions
                    WHERE ended_at >= ?
                    """,
                arguments: [since ?? Int64.min]
            ).map {
                EndedAccountSessions(
                    account: $0[0], before: Instant(microseconds: $0[1]), tokensBefore: ($0[2] as Int64?).map(Instant.init(microseconds:)),
                    expiresAt: Instant(microseconds: $0[3]), endedAt: $0[4])
            }
        }
    }

    /// How long a figures lease lasts at most (a computation over a large ledger takes minutes).
    static let figureLeaseMicros: Int64 = 15 * 60 * 1_000_000

    public func storedFigures(named name: String) async throws -> StoredFigures? {
        try await reading { db in
            try Row.fetchOne(db, sql: "SELECT as_of_seq, text FROM shared_figures WHERE name = ?", arguments: [name]).map {
                StoredFigures(asOfSeq: $0[0], text: $0[1])
            }
        }
    }

    public func computeFigures(named name: String, _ compute: @escaping @Sendable () async throws -> StoredFigures) async throws
        -> StoredFigures?
    {
        // The lease is a row (every process and store instance on the file sees it), with an
        // expiry so that a process that died while computing frees it.
        let holder = UUID().uuidString
        let acquired = try await writing { db -> Bool in
            let now = Self.wallClockMicros()
            try db.execute(sql: "DELETE FROM figure_leases WHERE name = ? AND expires_at < ?", arguments: [name, now])
            try db.execute(
                sql: "INSERT OR IGNORE INTO figure_leases (name, holder, expires_at) VALUES (?, ?, ?)",
                arguments: [name, holder, now + Self.figureLeaseMicros])
            return db.changesCount == 1
        }
        guard acquired else { return nil }
        let figures: StoredFigures
        do {
            figures = try await compute()
        } catch {
            _ = try? await writing { db in
                try db.execute(sql: "DELETE FROM figure_leases WHERE name = ? AND holder = ?", arguments: [name, holder])
            }
            throw error
        }
        try await writing { db in
            try db.execute(sql: "DELETE FROM figure_leases WHERE name = ? AND holder = ?", arguments: [name, holder])
            try db.execute(
                sql: """
                    INSERT INTO shared_figures (name, as_of_seq, text, computed_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET as_of_seq = excluded.as_of_seq, text = excluded.text, computed_at = excluded.computed_at
                    WHERE excluded.as_of_seq >= shared_figures.as_of_seq
                    """, arguments: [name, figures.asOfSeq, figures.text, Self.wallClockMicros()])
        }
        return figures
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
}
