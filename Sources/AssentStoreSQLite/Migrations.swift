import AssentCore
import AssentStore
import Foundation
import GRDB

/// The schema's migrations. Frozen once shipped: a change is a new migration.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: ledger, content, runs, sweeps") { db in
            // The append-only, hash-chained ledger: every accepted event and every policy
            // version, run and sweep. `body` is the canonical JSON the hash covers; exchange text
            // is not in it, only `content_sha256`.
            try db.execute(
                sql: """
                    CREATE TABLE ledger (
                        seq INTEGER PRIMARY KEY,
                        at INTEGER NOT NULL,
                        actor TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        account TEXT,
                        body TEXT NOT NULL,
                        content_sha256 TEXT,
                        hash BLOB NOT NULL,
                        recorded_at INTEGER NOT NULL
                    );
                    CREATE INDEX ledger_by_account ON ledger(account, at, seq) WHERE account IS NOT NULL;
                    CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
                        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
                    CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
                        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

                    -- The head of the chain, updated in the same transaction as every append.
                    CREATE TABLE ledger_head (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        last_seq INTEGER NOT NULL,
                        last_hash BLOB NOT NULL,
                        horizon INTEGER
                    );

                    -- Exchange text and feedback comments, apart from the ledger so a purge can remove them.
                    CREATE TABLE content (
                        seq INTEGER PRIMARY KEY REFERENCES ledger(seq),
                        account TEXT NOT NULL,
                        conversation TEXT NOT NULL,
                        feedback TEXT,
                        text TEXT NOT NULL
                    );
                    CREATE INDEX content_by_conversation ON content(conversation);

                    -- What was purged, when, and the digest of what it was.
                    CREATE TABLE tombstones (
                        content_seq INTEGER PRIMARY KEY REFERENCES ledger(seq),
                        purge_seq INTEGER NOT NULL REFERENCES ledger(seq),
                        account TEXT NOT NULL,
                        conversation TEXT NOT NULL,
                        feedback TEXT,
                        content_sha256 TEXT,
                        had_content INTEGER NOT NULL,
                        purged_at INTEGER NOT NULL
                    );

                    -- Ownership of ids that are unique across accounts.
                    CREATE TABLE conversations (
                        id TEXT PRIMARY KEY,
                        account TEXT NOT NULL,
                        first_seq INTEGER NOT NULL REFERENCES ledger(seq)
                    ) WITHOUT ROWID;
                    CREATE TABLE feedback (
                        id TEXT PRIMARY KEY,
                        account TEXT NOT NULL,
                        conversation TEXT NOT NULL,
                        seq INTEGER NOT NULL REFERENCES ledger(seq)
                    ) WITHOUT ROWID;

                    CREATE TABLE policy_versions (
                        seq INTEGER PRIMARY KEY REFERENCES ledger(seq),
                        version TEXT NOT NULL UNIQUE,
                        effective_from INTEGER NOT NULL,
                        document TEXT NOT NULL
                    );

                    -- Runs and their manifests: immutable once written.
                    CREATE TABLE runs (
                        name TEXT PRIMARY KEY,
                        at INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        purpose TEXT NOT NULL,
                        ledger_seq INTEGER NOT NULL,
                        policy_version TEXT NOT NULL,
                        conversation_count INTEGER NOT NULL,
                        feedback_count INTEGER NOT NULL,
                        manifest_sha256 TEXT NOT NULL,
                        created_seq INTEGER NOT NULL REFERENCES ledger(seq) DEFERRABLE INITIALLY DEFERRED
                    );
                    CREATE TABLE run_items (
                        run TEXT NOT NULL REFERENCES runs(name) DEFERRABLE INITIALLY DEFERRED,
                        position INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        item TEXT NOT NULL,
                        account TEXT NOT NULL,
                        manifest_line TEXT NOT NULL,
                        PRIMARY KEY (run, position)
                    ) WITHOUT ROWID;
                    CREATE INDEX run_items_by_item ON run_items(item, kind);
                    CREATE INDEX run_items_by_account ON run_items(account);
                    CREATE TRIGGER runs_no_update BEFORE UPDATE ON runs
                        BEGIN SELECT RAISE(ABORT, 'runs are immutable'); END;
                    CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs
                        BEGIN SELECT RAISE(ABORT, 'runs are immutable'); END;
                    CREATE TRIGGER run_items_no_update BEFORE UPDATE ON run_items
                        BEGIN SELECT RAISE(ABORT, 'runs are immutable'); END;
                    CREATE TRIGGER run_items_no_delete BEFORE DELETE ON run_items
                        BEGIN SELECT RAISE(ABORT, 'runs are immutable'); END;

                    -- Files imported, by digest, so that importing the same file twice writes nothing.
                    CREATE TABLE imports (
                        file_sha256 TEXT PRIMARY KEY,
                        first_seq INTEGER,
                        last_seq INTEGER,
                        lines INTEGER NOT NULL,
                        events INTEGER NOT NULL,
                        imported_at INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v2: deployment keys") { db in
            // Secrets of this deployment (the pseudonym key of exports); they never leave it.
            try db.execute(
                sql: """
                    CREATE TABLE deployment_keys (
                        name TEXT PRIMARY KEY,
                        key BLOB NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v3: service keys and idempotency") { db in
            // Keys of the callers of the HTTP API: only the SHA-256 of each secret is kept.
            // Idempotency-Keys of event batches, with the first answer, so that a retry writes nothing.
            try db.execute(
                sql: """
                    CREATE TABLE service_keys (
                        name TEXT PRIMARY KEY,
                        secret_sha256 TEXT NOT NULL UNIQUE,
                        scopes TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    );
                    CREATE TABLE idempotency_keys (
                        caller TEXT NOT NULL,
                        key TEXT NOT NULL,
                        request_sha256 TEXT NOT NULL,
                        response TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        PRIMARY KEY (caller, key)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v4: purge and expiry indexes") { db in
            // The newest purge names the state of every export (an export changes only when
            // content it held is purged); idempotency keys are deleted by age.
            try db.execute(
                sql: """
                    CREATE INDEX tombstones_by_purge ON tombstones(purge_seq);
                    CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);
                    """)
        }
        migrator.registerMigration("v5: store v4 — compact events, account heads, packed run items") { db in
            try StoreV4.migrate(db)
        }
        migrator.registerMigration("v6: shared figures") { db in
            // Figures computed once for every server (the dashboard), with the entry they are exact for.
            try db.execute(
                sql: """
                    CREATE TABLE shared_figures (
                        name TEXT PRIMARY KEY,
                        as_of_seq INTEGER NOT NULL,
                        text TEXT NOT NULL,
                        computed_at INTEGER NOT NULL
                    );
                    -- Who computes them now: a lease with an expiry (a process that died frees it then).
                    CREATE TABLE figure_leases (
                        name TEXT PRIMARY KEY,
                        holder TEXT NOT NULL,
                        expires_at INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v7: keys that expire and rotate") { db in
            // A key's expiry; after `keys rotate`, the replaced secret's digest and the end of its
            // overlap (looked up like the current one); when the key was last used.
            try db.execute(
                sql: """
                    ALTER TABLE service_keys ADD COLUMN expires_at INTEGER;
                    ALTER TABLE service_keys ADD COLUMN rotated_at INTEGER;
                    ALTER TABLE service_keys ADD COLUMN previous_secret_sha256 TEXT;
                    ALTER TABLE service_keys ADD COLUMN previous_expires_at INTEGER;
                    ALTER TABLE service_keys ADD COLUMN last_used_at INTEGER;
                    CREATE UNIQUE INDEX service_keys_by_previous_secret ON service_keys(previous_secret_sha256)
                        WHERE previous_secret_sha256 IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v8: webhooks and their outbox") { db in
            // `kinds` is `,kind,kind,`; a delivery is queued in the transaction that writes its
            // entry (SQLiteStore.queueDeliveries) and is pending until delivered or failed.
            try db.execute(
                sql: """
                    CREATE TABLE webhooks (
                        id TEXT PRIMARY KEY,
                        url TEXT NOT NULL,
                        categories TEXT NOT NULL,
                        kinds TEXT NOT NULL,
                        secret TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        removed_at INTEGER
                    );
                    CREATE TABLE webhook_deliveries (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        webhook TEXT NOT NULL REFERENCES webhooks(id),
                        seq INTEGER NOT NULL,
                        account TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        next_attempt_at INTEGER NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        last_status INTEGER,
                        last_error TEXT,
                        delivered_at INTEGER,
                        failed_at INTEGER,
                        UNIQUE (webhook, seq)
                    );
                    CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
                        WHERE delivered_at IS NULL AND failed_at IS NULL;
                    CREATE INDEX webhook_deliveries_by_account ON webhook_deliveries (webhook, account, seq)
                        WHERE delivered_at IS NULL AND failed_at IS NULL;
                    """)
        }
        migrator.registerMigration("v9: pseudonymous webhooks") { db in
            // Deliveries name accounts and conversations by their export pseudonyms (Webhook.pseudonymous).
            try db.execute(sql: "ALTER TABLE webhooks ADD COLUMN pseudonymous INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v10: page sessions ended at sign-out") { db in
            // The digest of each session cookie signed out before its expiry (EndedSessions); a row
            // is forgotten once its cookie has expired.
            try db.execute(
                sql: """
                    CREATE TABLE ended_sessions (
                        digest TEXT PRIMARY KEY,
                        expires_at INTEGER NOT NULL,
                        ended_at INTEGER NOT NULL
                    );
                    CREATE INDEX ended_sessions_by_end ON ended_sessions (ended_at);
                    """)
        }
        migrator.registerMigration("v11: every page session of an account ended") { db in
            // Sign out everywhere (EndedSessions.endAccountSessions): the sessions of an account
            // opened at or before ended_before open nothing; forgotten once they have all expired.
            try db.execute(
                sql: """
                    CREATE TABLE ended_account_sessions (
                        account TEXT PRIMARY KEY,
                        ended_before INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        ended_at INTEGER NOT NULL
                    );
                    CREATE INDEX ended_account_sessions_by_end ON ended_account_sessions (ended_at);
                    """)
        }
        migrator.registerMigration("v12: user tokens ended with every session of an account") { db in
            // A sign-out everywhere also ends the account's user tokens issued at or before
            // tokens_before (NULL: none ended; a deletion ends page sessions only).
            try db.execute(sql: "ALTER TABLE ended_account_sessions ADD COLUMN tokens_before INTEGER")
        }
        return migrator
    }

    /// Refuses a database migrated by a newer build: its schema may hold rules this build would
    /// break by writing (roll forward, or restore the backup taken before the upgrade).
    static func refuseNewer(_ db: Database) throws {
        let unknown = try migrator.appliedIdentifiers(db).subtracting(migrator.migrations)
        guard unknown.isEmpty else {
            throw StoreError.unavailable(
                "the database was migrated by a newer Assent (migrations this build does not know: "
                    + unknown.sorted().joined(separator: ", ") + "): run that version or a later one")
        }
    }
}

/// Store v4 (migration v5): what a v3 database gains, filled from what it holds.
enum StoreV4 {
    static func migrate(_ db: Database) throws {
        // 1. `enc`: each account event in its compact binary form, decoded by timelines, runs and
        // sweeps instead of the JSON `body` (which stays: it is what the chain hashes).
        try db.execute(
            sql: """
                DROP TRIGGER ledger_no_update;
                ALTER TABLE ledger ADD COLUMN enc BLOB;
                """)
        let update = try db.makeStatement(sql: "UPDATE ledger SET enc = ? WHERE seq = ?")
        var after: Int64 = 0
        while true {
            // In batches, so that no cursor is open on the table being updated.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, account, body FROM ledger WHERE account IS NOT NULL AND seq > ? ORDER BY seq LIMIT 10000
                    """, arguments: [after])
            guard let last = rows.last else { break }
            for row in rows {
                let seq: Int64 = row[0]
                let event = try LedgerCodec.event(seq: seq, body: row[2])
                try update.execute(arguments: [Data(EventCodec.encode(event)), seq])
            }
            after = last[0]
        }
        try db.execute(
            sql: """
                CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
                    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

                -- Each account's newest ledger entry, moved by every append: a cached timeline is
                -- current when its last entry is this one (a primary-key read).
                CREATE TABLE accounts (
                    account TEXT PRIMARY KEY,
                    last_seq INTEGER NOT NULL
                ) WITHOUT ROWID;
                INSERT INTO accounts (account, last_seq)
                    SELECT account, max(seq) FROM ledger WHERE account IS NOT NULL GROUP BY account;

                -- A run's items, one row per account with the items packed (RunPack). Rows are
                -- written while the run is built and are immutable once the run exists.
                CREATE TABLE run_accounts (
                    run TEXT NOT NULL,
                    account TEXT NOT NULL,
                    items BLOB NOT NULL,
                    PRIMARY KEY (run, account)
                ) WITHOUT ROWID;
                CREATE INDEX run_accounts_by_account ON run_accounts(account);

                -- The build under way for each run name, so that two builds of one name cannot mix rows.
                CREATE TABLE run_builds (
                    name TEXT PRIMARY KEY,
                    token TEXT NOT NULL,
                    started_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
        // The runs made before, packed; from here a run's rows cannot change once it exists.
        try packRuns(db)
        try db.execute(
            sql: """
                CREATE TRIGGER run_accounts_no_insert BEFORE INSERT ON run_accounts
                    WHEN EXISTS (SELECT 1 FROM runs WHERE name = NEW.run)
                    BEGIN SELECT RAISE(ABORT, 'runs are immutable'); END;
                CREATE TRIGGER run_accounts_no_update BEFORE UPDATE ON run_accounts
                    WHEN EXISTS (SELECT 1 FROM runs WHERE name = OLD.run)
                    BEGIN SELECT RAISE(ABORT, 'runs are immutable'); END;
                CREATE TRIGGER run_accounts_no_delete BEFORE DELETE ON run_accounts
                    WHEN EXISTS (SELECT 1 FROM runs WHERE name = OLD.run)
                    BEGIN SELECT RAISE(ABORT, 'runs are immutable'); END;
                DROP TABLE run_items;
                """)
    }

    /// Moves every run's items into packed rows, and proves the move: each manifest line rebuilt
    /// from the pack and the ledger is the line stored before, and they hash to the run's
    /// `manifestSha256`. A run that does not stops the migration (nothing changes).
    static func packRuns(_ db: Database) throws {
        let runs = try Row.fetchAll(
            db,
            sql: """
                SELECT name, at, purpose, ledger_seq, policy_version, manifest_sha256 FROM runs ORDER BY created_seq
                """)
        let insert = try db.makeStatement(sql: "INSERT INTO run_accounts (run, account, items) VALUES (?, ?, ?)")
        let entry = try SQLiteStore.entryLookup(db)
        for run in runs {
            let name: String = run[0]
            let purpose = RunPurpose(rawValue: run[2]) ?? .modelTraining
            var hasher = ManifestHasher(
                header: ManifestHasher.header(
                    name: name, at: Instant(microseconds: run[1]), purpose: purpose, ledgerSeq: run[3], policyVersion: run[4]))
            var account: String?
            var items: [RunItem] = []
            var stored: [String] = []
            func flush() throws {
                guard let account, !items.isEmpty else { return }
                let pack = RunPack.pack(items)
                for (item, line) in zip(try RunPack.unpack(pack), stored) {
                    let rebuilt = try item.runItem(account: account, entry: entry).manifestLine
                    guard rebuilt == line else {
                        throw StoreError.corrupt("run \(name): a manifest line of account \(account) does not rebuild from the ledger")
                    }
                    hasher.add(line: rebuilt)
                }
                try insert.execute(arguments: [name, account, Data(pack)])
                items.removeAll(keepingCapacity: true)
                stored.removeAll(keepingCapacity: true)
            }
            let rows = try Row.fetchCursor(
                db, sql: "SELECT account, manifest_line FROM run_items WHERE run = ? ORDER BY position", arguments: [name])
            while let row = try rows.next() {
                let owner: String = row[0]
                if owner != account {
                    try flush()
                    account = owner
                }
                let line: String = row[1]
                items.append(try RunItem(manifestLine: line))
                stored.append(line)
            }
            try flush()
            guard hasher.finalize() == (run[5] as String) else {
                throw StoreError.corrupt("run \(name): its packed manifest does not hash to its manifestSha256")
            }
        }
    }
}
