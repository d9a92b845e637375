/// The PostgreSQL schema's migrations, tracked in `assent_migrations` and run under an advisory
/// lock. Frozen once shipped: a change is a new migration.
///
/// Version 1 is the SQLite store's v4 schema: ids are `text COLLATE "C"` (manifests order
/// accounts by bytes, whatever the database's collation), instants `bigint` microseconds.
enum PostgresMigrations {
    struct Migration {
        var version: Int
        var name: String
        var sql: String
    }

    static let all: [Migration] = [
        Migration(
            version: 1, name: "store v4: ledger, content, runs, sweeps, keys",
            sql: """
                CREATE TABLE ledger (
                    seq bigint PRIMARY KEY,
                    at bigint NOT NULL,
                    actor text NOT NULL,
                    kind text NOT NULL,
                    account text COLLATE "C",
                    body text NOT NULL,
                    content_sha256 text,
                    hash bytea NOT NULL,
                    recorded_at bigint NOT NULL,
                    enc bytea
                );
                CREATE INDEX ledger_by_account ON ledger (account, at, seq) WHERE account IS NOT NULL;
                CREATE INDEX ledger_by_kind ON ledger (kind, seq) WHERE account IS NULL;

                -- The head of the chain: every ledger write locks this one row (the serialisation point).
                CREATE TABLE ledger_head (
                    id integer PRIMARY KEY CHECK (id = 1),
                    last_seq bigint NOT NULL,
                    last_hash bytea NOT NULL,
                    horizon bigint
                );

                -- Each account's newest ledger entry: a cached timeline is current when it names it.
                CREATE TABLE accounts (
                    account text COLLATE "C" PRIMARY KEY,
                    last_seq bigint NOT NULL
                );

                CREATE TABLE content (
                    seq bigint PRIMARY KEY REFERENCES ledger (seq),
                    account text COLLATE "C" NOT NULL,
                    conversation text COLLATE "C" NOT NULL,
                    feedback text COLLATE "C",
                    text text NOT NULL
                );
                CREATE INDEX content_by_conversation ON content (conversation);

                CREATE TABLE tombstones (
                    content_seq bigint PRIMARY KEY REFERENCES ledger (seq),
                    purge_seq bigint NOT NULL REFERENCES ledger (seq),
                    account text COLLATE "C" NOT NULL,
                    conversation text COLLATE "C" NOT NULL,
                    feedback text COLLATE "C",
                    content_sha256 text,
                    had_content boolean NOT NULL,
                    purged_at bigint NOT NULL
                );
                CREATE INDEX tombstones_by_purge ON tombstones (purge_seq);

                CREATE TABLE conversations (
                    id text COLLATE "C" PRIMARY KEY,
                    account text COLLATE "C" NOT NULL,
                    first_seq bigint NOT NULL REFERENCES ledger (seq)
                );
                CREATE TABLE feedback (
                    id text COLLATE "C" PRIMARY KEY,
                    account text COLLATE "C" NOT NULL,
                    conversation text COLLATE "C" NOT NULL,
                    seq bigint NOT NULL REFERENCES ledger (seq)
                );

                CREATE TABLE policy_versions (
                    seq bigint PRIMARY KEY REFERENCES ledger (seq),
                    version text NOT NULL UNIQUE,
                    effective_from bigint NOT NULL,
                    document text NOT NULL
                );

                CREATE TABLE runs (
                    name text COLLATE "C" PRIMARY KEY,
                    at bigint NOT NULL,
                    created_at bigint NOT NULL,
                    purpose text NOT NULL,
                    ledger_seq bigint NOT NULL,
                    policy_version text NOT NULL,
                    conversation_count integer NOT NULL,
                    feedback_count integer NOT NULL,
                    manifest_sha256 text NOT NULL,
                    created_seq bigint NOT NULL REFERENCES ledger (seq)
                );
                -- A run's items, one row per account, packed (RunPack); written by the run's own
                -- transaction, immutable once the run exists.
                CREATE TABLE run_accounts (
                    run text COLLATE "C" NOT NULL,
                    account text COLLATE "C" NOT NULL,
                    items bytea NOT NULL,
                    PRIMARY KEY (run, account)
                );
                CREATE INDEX run_accounts_by_account ON run_accounts (account);

                CREATE TABLE imports (
                    file_sha256 text PRIMARY KEY,
                    first_seq bigint,
                    last_seq bigint,
                    lines integer NOT NULL,
                    events integer NOT NULL,
                    imported_at bigint NOT NULL
                );

                CREATE TABLE deployment_keys (
                    name text PRIMARY KEY,
                    key bytea NOT NULL,
                    created_at bigint NOT NULL
                );

                CREATE TABLE service_keys (
                    name text COLLATE "C" PRIMARY KEY,
                    secret_sha256 text NOT NULL UNIQUE,
                    scopes text NOT NULL,
                    created_at bigint NOT NULL,
                    revoked_at bigint
                );

                CREATE TABLE idempotency_keys (
                    caller text NOT NULL,
                    key text NOT NULL,
                    request_sha256 text NOT NULL,
                    response text NOT NULL,
                    created_at bigint NOT NULL,
                    PRIMARY KEY (caller, key)
                );
                CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

                -- Append-only: refused row by row and as a whole (TRUNCATE skips row triggers).
                CREATE FUNCTION assent_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'P0001';
                END $$;
                CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
                    FOR EACH ROW EXECUTE FUNCTION assent_refuse('the ledger is append-only');
                CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
                    FOR EACH ROW EXECUTE FUNCTION assent_refuse('the ledger is append-only');
                CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
                    FOR EACH STATEMENT EXECUTE FUNCTION assent_refuse('the ledger is append-only');
                CREATE TRIGGER runs_no_update BEFORE UPDATE ON runs
                    FOR EACH ROW EXECUTE FUNCTION assent_refuse('runs are immutable');
                CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs
                    FOR EACH ROW EXECUTE FUNCTION assent_refuse('runs are immutable');
                CREATE TRIGGER runs_no_truncate BEFORE TRUNCATE ON runs
                    FOR EACH STATEMENT EXECUTE FUNCTION assent_refuse('runs are immutable');

                CREATE FUNCTION assent_run_accounts_guard() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM runs WHERE name = CASE WHEN TG_OP = 'INSERT' THEN NEW.run ELSE OLD.run END) THEN
                        RAISE EXCEPTION 'runs are immutable' USING ERRCODE = 'P0001';
                    END IF;
                    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
                END $$;
                CREATE TRIGGER run_accounts_immutable BEFORE INSERT OR UPDATE OR DELETE ON run_accounts
                    FOR EACH ROW EXECUTE FUNCTION assent_run_accounts_guard();
                CREATE TRIGGER run_accounts_no_truncate BEFORE TRUNCATE ON run_accounts
                    FOR EACH STATEMENT EXECUTE FUNCTION assent_refuse('runs are immutable');
                """),
        Migration(
            version: 2, name: "shared figures",
            sql: """
                -- Figures one server computes under a lease for every server (the dashboard), with
                -- the ledger entry they are exact for.
                CREATE TABLE shared_figures (
                    name text PRIMARY KEY,
                    as_of_seq bigint NOT NULL,
                    text text NOT NULL,
                    computed_at bigint NOT NULL
                );
                """),
        Migration(
            version: 3, name: "keys that expire and rotate",
            sql: """
                -- A key's expiry; after `keys rotate`, the replaced secret's digest and the end of its
                -- overlap (looked up like the current one); when the key was last used.
                ALTER TABLE service_keys ADD COLUMN expires_at bigint;
                ALTER TABLE service_keys ADD COLUMN rotated_at bigint;
                ALTER TABLE service_keys ADD COLUMN previous_secret_sha256 text;
                ALTER TABLE service_keys ADD COLUMN previous_expires_at bigint;
                ALTER TABLE service_keys ADD COLUMN last_used_at bigint;
                CREATE UNIQUE INDEX service_keys_by_previous_secret ON service_keys(previous_secret_sha256)
                    WHERE previous_secret_sha256 IS NOT NULL;
                """),
        Migration(
            version: 4, name: "webhooks and their outbox",
            sql: """
                -- `kinds` is `,kind,kind,`; a delivery is queued in the transaction that writes its
                -- entry (PostgresStore.queueDeliveries) and is pending until delivered or failed.
                CREATE TABLE webhooks (
                    id text COLLATE "C" PRIMARY KEY,
                    url text NOT NULL,
                    categories text NOT NULL,
                    kinds text NOT NULL,
                    secret text NOT NULL,
                    created_at bigint NOT NULL,
                    removed_at bigint
                );
                CREATE TABLE webhook_deliveries (
                    id bigserial PRIMARY KEY,
                    webhook text COLLATE "C" NOT NULL REFERENCES webhooks(id),
                    seq bigint NOT NULL,
                    account text COLLATE "C" NOT NULL,
                    created_at bigint NOT NULL,
                    next_attempt_at bigint NOT NULL,
                    attempts integer NOT NULL DEFAULT 0,
                    last_status integer,
                    last_error text,
                    delivered_at bigint,
                    failed_at bigint,
                    UNIQUE (webhook, seq)
                );
                CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
                    WHERE delivered_at IS NULL AND failed_at IS NULL;
                CREATE INDEX webhook_deliveries_by_account ON webhook_deliveries (webhook, account, seq)
                    WHERE delivered_at IS NULL AND failed_at IS NULL;
                """),
        Migration(
            version: 5, name: "run items guarded once per statement",
            sql: """
                -- A run's items are written with COPY, thousands of rows at a time: the guard that
                -- refuses items for a run already recorded now runs once per statement over the
                -- statement's new rows, not once per row (a query per row cost seconds per run).
                CREATE FUNCTION assent_run_accounts_insert_guard() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM assent_new_rows n JOIN runs r ON r.name = n.run) THEN
                        RAISE EXCEPTION 'runs are immutable' USING ERRCODE = 'P0001';
                    END IF;
                    RETURN NULL;
                END $$;
                DROP TRIGGER run_accounts_immutable ON run_accounts;
                CREATE TRIGGER run_accounts_immutable BEFORE UPDATE OR DELETE ON run_accounts
                    FOR EACH ROW EXECUTE FUNCTION assent_run_accounts_guard();
                CREATE TRIGGER run_accounts_insert_guard AFTER INSERT ON run_accounts
                    REFERENCING NEW TABLE AS assent_new_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION assent_run_accounts_insert_guard();
                """),
        Migration(
            version: 6, name: "rows that name a ledger entry checked once per statement; an unused index dropped",
            sql: """
                -- The foreign keys of content, conversations and feedback to the ledger ran a query of
                -- their own for each row written, which also locked the ledger row: a third of the
                -- time an append's write statement took under the chain's lock. The ledger's rows are
                -- never changed or removed (its triggers), so all they guarded is that a row written
                -- names an entry: checked here once per statement, over the statement's new rows.
                CREATE FUNCTION assent_names_ledger_entry() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    missing bigint;
                BEGIN
                    IF TG_TABLE_NAME = 'conversations' THEN
                        SELECT n.first_seq INTO missing FROM assent_new_rows n
                        WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE l.seq = n.first_seq) LIMIT 1;
                    ELSE
                        SELECT n.seq INTO missing FROM assent_new_rows n
                        WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE l.seq = n.seq) LIMIT 1;
                    END IF;
                    IF missing IS NOT NULL THEN
                        RAISE EXCEPTION 'a row of % names ledger entry #%, which does not exist', TG_TABLE_NAME, missing
                            USING ERRCODE = '23503';
                    END IF;
                    RETURN NULL;
                END $$;
                ALTER TABLE content DROP CONSTRAINT content_seq_fkey;
                ALTER TABLE conversations DROP CONSTRAINT conversations_first_seq_fkey;
                ALTER TABLE feedback DROP CONSTRAINT feedback_seq_fkey;
                CREATE TRIGGER content_names_ledger_entry AFTER INSERT ON content REFERENCING NEW TABLE AS assent_new_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION assent_names_ledger_entry();
                CREATE TRIGGER conversations_name_ledger_entry AFTER INSERT ON conversations REFERENCING NEW TABLE AS assent_new_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION assent_names_ledger_entry();
                CREATE TRIGGER feedback_names_ledger_entry AFTER INSERT ON feedback REFERENCING NEW TABLE AS assent_new_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION assent_names_ledger_entry();
                -- No query reads stored text by conversation (each reads it by its entry's seq): the
                -- index only cost every append an insert into it.
                DROP INDEX content_by_conversation;
                -- A row's entry is fixed once written (as the foreign keys held it): refused outright.
                CREATE TRIGGER content_entry_fixed BEFORE UPDATE OF seq ON content
                    FOR EACH ROW EXECUTE FUNCTION assent_refuse('a row''s ledger entry is fixed');
                CREATE TRIGGER conversations_entry_fixed BEFORE UPDATE OF first_seq ON conversations
                    FOR EACH ROW EXECUTE FUNCTION assent_refuse('a row''s ledger entry is fixed');
                CREATE TRIGGER feedback_entry_fixed BEFORE UPDATE OF seq ON feedback
                    FOR EACH ROW EXECUTE FUNCTION assent_refuse('a row''s ledger entry is fixed');
                """),
        Migration(
            version: 7, name: "ledger writes announced to listeners",
            sql: """
                -- Every ledger write moves the head in its transaction: a notification on channel
                -- assent_ledger (payload: the new last seq), delivered when it commits, wakes the
                -- long polls and webhook senders of every server (PostgresStore.watchLedgerWrites).
                CREATE FUNCTION assent_announce_ledger_write() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('assent_ledger', NEW.last_seq::text);
                    RETURN NULL;
                END $$;
                CREATE TRIGGER ledger_head_announced AFTER UPDATE ON ledger_head
                    FOR EACH ROW EXECUTE FUNCTION assent_announce_ledger_write();
                """),
        Migration(
            version: 8, name: "pseudonymous webhooks",
            sql: """
                -- Deliveries name accounts and conversations by their export pseudonyms (Webhook.pseudonymous).
                ALTER TABLE webhooks ADD COLUMN pseudonymous boolean NOT NULL DEFAULT false;
                """),
        Migration(
            version: 9, name: "the user routes' rate buckets, shared by every server",
            sql: """
                -- One token bucket per account that wrote through the user routes lately
                -- (PostgresStore.takeToken): every server of the database takes from the same one.
                -- Unlogged: a crash empties it, which only gives every account a full bucket.
                CREATE UNLOGGED TABLE rate_buckets (
                    account text COLLATE "C" PRIMARY KEY,
                    tokens double precision NOT NULL,
                    updated bigint NOT NULL,
                    taken boolean NOT NULL
                );
                """),
        Migration(
            version: 10, name: "ledger writes announced with their head's hash",
            sql: """
                -- The payload names the head's entry: its seq, a space, its hash in hex. A server that
                -- only reads notes the newest entry seen committed, and notices a database that lost
                -- it (PostgresStore.checkSeenEntry). Servers before this ignore the payload.
                CREATE OR REPLACE FUNCTION assent_announce_ledger_write() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('assent_ledger', NEW.last_seq::text || ' ' || encode(NEW.last_hash, 'hex'));
                    RETURN NULL;
                END $$;
                """),
        Migration(
            version: 11, name: "the user routes' buckets of costly reads",
            sql: """
                -- A second bucket per account, for the user's reads whose cost grows with the
                -- account (export, conversations, receipts): the shape of rate_buckets, its own table
                -- so that servers of version 10, still running in a rolling upgrade, keep theirs.
                CREATE UNLOGGED TABLE read_rate_buckets (
                    account text COLLATE "C" PRIMARY KEY,
                    tokens double precision NOT NULL,
                    updated bigint NOT NULL,
                    taken boolean NOT NULL
                );
                """),
        Migration(
            version: 12, name: "page sessions ended at sign-out",
            sql: """
                -- The digest of each session cookie signed out before its expiry (EndedSessions), seen
                -- by every server; a row is forgotten once its cookie has expired. Logged: a crash
                -- must not bring a signed-out session back.
                -- ended_at is the database's clock, so that every server reads one order of them
                -- (PostgresStore.endedSessions).
                CREATE TABLE ended_sessions (
                    digest text COLLATE "C" PRIMARY KEY,
                    expires_at bigint NOT NULL,
                    ended_at bigint NOT NULL DEFAULT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
                );
                CREATE INDEX ended_sessions_by_end ON ended_sessions (ended_at);
                """),
        Migration(
            version: 13, name: "every page session of an account ended",
            sql: """
                -- Sign out everywhere (EndedSessions.endAccountSessions): the sessions of an account
                -- opened at or before ended_before open nothing; forgotten once they have all
                -- expired. ended_at is the database's clock, as in ended_sessions.
                CREATE TABLE ended_account_sessions (
                    account text COLLATE "C" PRIMARY KEY,
                    ended_before bigint NOT NULL,
                    expires_at bigint NOT NULL,
                    ended_at bigint NOT NULL DEFAULT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
                );
                CREATE INDEX ended_account_sessions_by_end ON ended_account_sessions (ended_at);
                """),
        Migration(
            version: 14, name: "user tokens ended with every session of an account",
            sql: """
                -- A sign-out everywhere also ends the account's user tokens issued at or before
                -- tokens_before (NULL: none ended; a deletion ends page sessions only). Servers of
                -- version 13, still running in a rolling upgrade, write endings without it.
                ALTER TABLE ended_account_sessions ADD COLUMN tokens_before bigint;
                """),
    ]
}
