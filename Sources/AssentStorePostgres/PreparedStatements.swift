import AssentCore
import AssentStore
import NIOCore
import PostgresNIO

// The reads every prompt, explain and page makes, prepared once per connection: PostgreSQL
// plans each when a connection first runs it, not on every call (planning took as long as the
// execution).

/// The inputs of a decision about a conversation: its owner, the owner's head and the newest
/// policy version, then the owner's entries in timeline order (one row per entry, the first three
/// columns repeated), all as of one statement.
struct ConversationInputsStatement: PostgresPreparedStatement {
    static let name = "assent_conversation_inputs_1"
    static let sql = """
        SELECT c.account, a.last_seq, (SELECT coalesce(max(seq), 0) FROM policy_versions), l.seq, l.enc
        FROM conversations c JOIN accounts a ON a.account = c.account
        LEFT JOIN LATERAL (SELECT seq, enc, at FROM ledger WHERE ledger.account = c.account) l ON true
        WHERE c.id = $1 ORDER BY l.at, l.seq
        """
    typealias Row = (account: String, lastSeq: Int64, newestPolicy: Int64, seq: Int64?, enc: ByteBuffer?)

    var conversation: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(conversation)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode((String, Int64, Int64, Int64?, ByteBuffer?).self) }
}

/// The inputs of a decision about an account whose timeline is not cached: the newest policy
/// version, the account's head (NULL when there is no such account) and its entries in timeline
/// order. Always at least one row.
struct AccountInputsStatement: PostgresPreparedStatement {
    static let name = "assent_account_inputs_1"
    static let sql = """
        SELECT p.newest, a.last_seq, l.seq, l.enc
        FROM (SELECT coalesce(max(seq), 0) AS newest FROM policy_versions) p
        LEFT JOIN accounts a ON a.account = $1
        LEFT JOIN LATERAL (SELECT seq, enc, at FROM ledger WHERE ledger.account = a.account) l ON true
        ORDER BY l.at, l.seq
        """
    typealias Row = (newestPolicy: Int64, lastSeq: Int64?, seq: Int64?, enc: ByteBuffer?)

    var account: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(account)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode((Int64, Int64?, Int64?, ByteBuffer?).self) }
}

/// An account's head (NULL when there is no such account) and the newest policy version: what
/// tells whether a cached timeline is still the ledger's.
struct AccountHeadStatement: PostgresPreparedStatement {
    static let name = "assent_account_head_1"
    static let sql = """
        SELECT (SELECT last_seq FROM accounts WHERE account = $1), (SELECT coalesce(max(seq), 0) FROM policy_versions)
        """
    typealias Row = (lastSeq: Int64?, newestPolicy: Int64)

    var account: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(account)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode((Int64?, Int64).self) }
}

/// The table of one kind of rate bucket (``TakeTokenStatement``).
protocol RateBucketTable: SendableMetatype {
    static var bucket: RateBucket { get }
    static var table: String { get }
}

/// The user routes' writes: `rate_buckets` (migration 9).
enum WriteBucketTable: RateBucketTable {
    static let bucket = RateBucket.writes
    static let table = "rate_buckets"
}

/// The user routes' costly reads: `read_rate_buckets` (migration 11).
enum ReadBucketTable: RateBucketTable {
    static let bucket = RateBucket.reads
    static let table = "read_rate_buckets"
}

/// Takes one token from an account's rate bucket (``PostgresStore/takeToken(account:bucket:rate:now:)``):
/// refilled for the time since it was last taken from, as ``TokenBucket/take(_:now:)`` does (the
/// same operations in the same order, in `float8`), in one statement every server of the
/// database shares. `$1` the account, `$2` the burst, `$3` the rate per second, `$4` now.
struct TakeTokenStatement<Table: RateBucketTable>: PostgresPreparedStatement {
    static var name: String { "assent_take_token_\(Table.bucket.rawValue)_1" }
    static var sql: String {
        """
        INSERT INTO \(Table.table) AS b (account, tokens, updated, taken) VALUES ($1, $2::float8 - 1, $4, true)
        ON CONFLICT (account) DO UPDATE SET (tokens, updated, taken) = (
            SELECT CASE WHEN refilled >= 1 THEN refilled - 1 ELSE refilled END, greatest(b.updated, $4), refilled >= 1
            FROM (SELECT least($2::float8, b.tokens + greatest(0, $4::bigint - b.updated)::float8 / 1000000::float8 * $3::float8)
                AS refilled) AS r)
        RETURNING tokens, taken
        """
    }
    typealias Row = (tokens: Double, taken: Bool)

    var account: String
    var rate: TokenRate
    var now: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 4)
        bindings.append(account)
        bindings.append(Double(rate.burst))
        bindings.append(rate.perSecond)
        bindings.append(now)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode((Double, Bool).self) }
}

/// The runs holding some item of a conversation's owner, oldest first, with that owner's packed
/// items in each.
struct RunsOfConversationOwnerStatement: PostgresPreparedStatement {
    static let name = "assent_runs_of_conversation_owner_1"
    static let sql = """
        SELECT r.name, a.items FROM conversations c JOIN run_accounts a ON a.account = c.account
        JOIN runs r ON r.name = a.run WHERE c.id = $1 ORDER BY r.created_seq
        """
    typealias Row = (name: String, items: ByteBuffer)

    var conversation: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(conversation)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode((String, ByteBuffer).self) }
}

/// Whether anything an append's plan read has moved since entry `since` (under the chain's lock):
/// a policy version applied, an entry of one of its accounts, one of the ids it creates taken.
struct MovedSinceStatement: PostgresPreparedStatement {
    static let name = "assent_moved_since_1"
    static let sql = """
        SELECT EXISTS (SELECT 1 FROM policy_versions WHERE seq > $1)
            OR EXISTS (SELECT 1 FROM accounts WHERE account = ANY($2::text[]) AND last_seq > $1)
            OR EXISTS (SELECT 1 FROM conversations WHERE id = ANY($3::text[]))
            OR EXISTS (SELECT 1 FROM feedback WHERE id = ANY($4::text[]))
        """
    typealias Row = Bool

    var since: Int64
    var accounts: [String]
    var conversations: [String]
    var feedback: [String]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 4)
        bindings.append(since)
        bindings.append(accounts)
        bindings.append(conversations)
        bindings.append(feedback)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Bool.self) }
}

/// The rows a batch of accepted events writes — ledger entries, content, new conversations and
/// feedback, and each account's newest entry — bound as the arrays the write statements take,
/// before the chain's lock is taken. Every seq is bound as an offset from the batch's first entry,
/// so the only parameters the lock decides, the first seq and the entries' hashes, are bound last
/// (``bindings(now:)``): an append planned before the lock is not written out again under it,
/// only hashed again (``chain(after:)``) when other entries landed first.
/// The empty string stands for NULL in the arrays (account events always name their account; a
/// digest or a feedback id is never empty).
struct WriteRows: Sendable {
    /// The head-independent parameters, `$1`…`$21` of ``sql``.
    private let independent: PostgresBindings
    /// Each entry's canonical bytes up to its seq.
    private let canonicalBytesBeforeSeq: [[UInt8]]
    /// The first entry's seq and each entry's hash: as validated, or as chained again.
    private(set) var first: Int64
    private(set) var hashes: [[UInt8]]
    var count: Int { hashes.count }
    /// What the rows write that a batch validated beside them may have read: their accounts and
    /// the ids they create.
    let footprint: LandedBatches.Footprint

    /// The rows of `accepted`, whose seqs follow each other.
    init(_ accepted: [EventIngest.Accepted]) {
        // The ledger's and content's columns, bound as they are built (``WireArray``): one element
        // per entry; a batch's new ids and accounts are few, bound from arrays.
        var ledger = (
            at: WireArray<WireInt64>(reservingBytes: 12 * accepted.count),
            actor: WireArray<WireText>(reservingBytes: 16 * accepted.count),
            kind: WireArray<WireText>(reservingBytes: 28 * accepted.count),
            account: WireArray<WireText>(reservingBytes: 24 * accepted.count),
            body: WireArray<WireText>(reservingBytes: 160 * accepted.count),
            digest: WireArray<WireText>(reservingBytes: 8 * accepted.count),
            enc: WireArray<WireBytes>(reservingBytes: 48 * accepted.count)
        )
        var content = (
            k: WireArray<WireInt64>(), account: WireArray<WireText>(), conversation: WireArray<WireText>(),
            feedback: WireArray<WireText>(), text: WireArray<WireText>()
        )
        var conversations = (id: [String](), account: [String](), k: [Int64]())
        var feedback = (id: [String](), account: [String](), conversation: [String](), k: [Int64]())
        var heads = [String: Int64](minimumCapacity: accepted.count)
        var prefixes: [[UInt8]] = []
        prefixes.reserveCapacity(accepted.count)
        let first = accepted.first?.record.seq ?? 0
        // Each entry's event encoded without its content (the ledger's `enc`) into one buffer, used again.
        var encoded: [UInt8] = []
        encoded.reserveCapacity(64)
        // Read in place, field by field: an entry is not copied whole (its strings and arrays each
        // retained and released) to bind a few of them.
        for k in accepted.indices {
            precondition(accepted[k].record.seq - first == Int64(k), "the rows of a write follow each other")
            let account = accepted[k].record.account ?? ""
            ledger.at.append(accepted[k].record.at.microseconds)
            ledger.actor.append(accepted[k].record.actor)
            ledger.kind.append(accepted[k].record.kind)
            ledger.account.append(account)
            ledger.body.append(accepted[k].record.body)
            ledger.digest.append(accepted[k].record.contentSha256 ?? "")
            encoded.removeAll(keepingCapacity: true)
            EventCodec.append(accepted[k].event, includingContent: false, to: &encoded)
            ledger.enc.append(encoded)
            prefixes.append(accepted[k].canonicalBytesBeforeSeq)
            // The rows' seqs grow: the account's last row is its head.
            heads[account] = Int64(k)
            let conversation = accepted[k].event.conversation
            if let text = accepted[k].event.content, let conversation {
                content.k.append(Int64(k))
                content.account.append(account)
                content.conversation.append(conversation)
                content.feedback.append(accepted[k].event.submittedFeedback ?? "")
                content.text.append(text)
            }
            if let id = accepted[k].newConversation {
                conversations.id.append(id)
                conversations.account.append(account)
                conversations.k.append(Int64(k))
            }
            if let id = accepted[k].newFeedback, let conversation {
                feedback.id.append(id)
                feedback.account.append(account)
                feedback.conversation.append(conversation)
                feedback.k.append(Int64(k))
            }
        }
        canonicalBytesBeforeSeq = prefixes
        self.first = first
        hashes = accepted.map(\.hash)
        let headAccounts = Array(heads.keys)
        footprint = LandedBatches.Footprint(accounts: headAccounts, conversations: conversations.id, feedback: feedback.id)
        var bindings = PostgresBindings(capacity: Self.parameters + 6)
        bindings.append(ledger.at)
        bindings.append(ledger.actor)
        bindings.append(ledger.kind)
        bindings.append(ledger.account)
        bindings.append(ledger.body)
        bindings.append(ledger.digest)
        bindings.append(ledger.enc)
        bindings.append(content.k)
        bindings.append(content.account)
        bindings.append(content.conversation)
        bindings.append(content.feedback)
        bindings.append(content.text)
        bindings.append(conversations.id)
        bindings.append(conversations.account)
        bindings.append(conversations.k)
        bindings.append(feedback.id)
        bindings.append(feedback.account)
        bindings.append(feedback.conversation)
        bindings.append(feedback.k)
        bindings.append(headAccounts)
        bindings.append(headAccounts.map { heads[$0]! })
        independent = bindings
    }

    /// How many parameters ``sql`` takes.
    static let parameters = 24

    /// Makes the rows entries `head.lastSeq + 1`, … chained after `head` (what validated them has
    /// not moved, only other entries landed first); returns the last one's hash.
    mutating func chain(after head: PostgresStore.Head) -> [UInt8] {
        first = head.lastSeq + 1
        var previous = head.lastHash
        for k in hashes.indices {
            previous = LedgerRecord.chainHash(canonicalBytesBeforeSeq: canonicalBytesBeforeSeq[k], seq: first + Int64(k), after: previous)
            hashes[k] = previous
        }
        return previous
    }

    /// ``sql``'s parameters, the rows recorded at `now`.
    func bindings(now: Int64) -> PostgresBindings {
        var bindings = independent
        bindings.append(first)
        var wireHashes = WireArray<WireBytes>(reservingBytes: 36 * hashes.count)
        for hash in hashes { wireHashes.append(hash) }
        bindings.append(wireHashes)
        bindings.append(now)
        return bindings
    }

    /// The common table expressions writing the rows: `ledger_rows` returns each entry's seq,
    /// account and kind. `$22` is the first entry's seq, `$23` the hashes, `$24` the wall clock
    /// (`recorded_at`).
    static let sql = """
        WITH ledger_rows AS (
            INSERT INTO ledger (seq, at, actor, kind, account, body, content_sha256, hash, recorded_at, enc)
            SELECT $22::bigint + n - 1, at, actor, kind, account, body, nullif(digest, ''), hash, $24::bigint, enc
            FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[], $23::bytea[])
                WITH ORDINALITY AS r(at, actor, kind, account, body, digest, enc, hash, n)
            RETURNING seq, account, kind
        ), content_rows AS (
            INSERT INTO content (seq, account, conversation, feedback, text)
            SELECT $22::bigint + k, account, conversation, nullif(feedback, ''), text
            FROM unnest($8::bigint[], $9::text[], $10::text[], $11::text[], $12::text[]) AS r(k, account, conversation, feedback, text)
        ), conversation_rows AS (
            INSERT INTO conversations (id, account, first_seq)
            SELECT id, account, $22::bigint + k FROM unnest($13::text[], $14::text[], $15::bigint[]) AS r(id, account, k)
        ), feedback_rows AS (
            INSERT INTO feedback (id, account, conversation, seq)
            SELECT id, account, conversation, $22::bigint + k
            FROM unnest($16::text[], $17::text[], $18::text[], $19::bigint[]) AS r(id, account, conversation, k)
        ), account_rows AS (
            INSERT INTO accounts (account, last_seq) SELECT account, $22::bigint + k FROM unnest($20::text[], $21::bigint[]) AS r(account, k)
            ON CONFLICT (account) DO UPDATE SET last_seq = greatest(accounts.last_seq, excluded.last_seq)
        )
        """
}

/// Writes rows alone (a sweep's purges, whose deliveries and head the sweep writes at its end).
struct WriteRowsStatement: PostgresPreparedStatement {
    static let name = "assent_write_rows_1"
    static let sql = WriteRows.sql + " SELECT count(*) FROM ledger_rows"
    typealias Row = Void

    var rows: WriteRows
    var now: Int64

    func makeBindings() throws -> PostgresBindings { rows.bindings(now: now) }

    func decodeRow(_ row: PostgresRow) throws -> Row {}
}

/// An append's whole write under the chain lock: its rows (``WriteRows``), the webhook deliveries
/// of the new entries (from the rows inserted: a statement does not see its own inserts) and the
/// chain's head, in one statement.
struct AppendWriteStatement: PostgresPreparedStatement {
    static let name = "assent_append_write_2"
    static let sql =
        WriteRows.sql + """
            , head_row AS (
                UPDATE ledger_head SET last_seq = $25::bigint, last_hash = $26::bytea, horizon = $27::bigint WHERE id = 1
            )
            INSERT INTO webhook_deliveries (webhook, seq, account, created_at, next_attempt_at)
            SELECT w.id, l.seq, l.account, $24::bigint, $24::bigint FROM webhooks w CROSS JOIN ledger_rows l
            WHERE l.account IS NOT NULL AND w.removed_at IS NULL AND position(',' || l.kind || ',' in w.kinds) > 0
            """
    typealias Row = Void

    var rows: WriteRows
    /// The chain's head after the rows.
    var head: PostgresStore.Head
    /// The wall clock: the entries' `recorded_at` and the deliveries' creation.
    var now: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = rows.bindings(now: now)
        bindings.append(head.lastSeq)
        bindings.append(ByteBuffer(bytes: head.lastHash))
        bindings.append(head.horizon?.microseconds)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {}
}
