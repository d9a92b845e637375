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

/// The rows a batch of accepted events writes, as the arrays the write statements take: ledger
/// entries, content, new conversations and feedback, and each account's newest seq.
struct WriteRows {
    var ledger = (
        seq: [Int64](), at: [Int64](), actor: [String](), kind: [String](), account: [String](), body: [String](),
        digest: [String](), hash: [ByteBuffer](), enc: [ByteBuffer]()
    )
    var content = (seq: [Int64](), account: [String](), conversation: [String](), feedback: [String](), text: [String]())
    var conversations = (id: [String](), account: [String](), seq: [Int64]())
    var feedback = (id: [String](), account: [String](), conversation: [String](), seq: [Int64]())
    var headAccounts: [String] = []
    var headSeqs: [Int64] = []

    init(_ accepted: [EventIngest.Accepted]) {
        var heads: [String: Int64] = [:]
        for item in accepted {
            let row = PostgresStore.EventRow(n: 0, line: 0, accepted: item)
            let record = row.record
            let account = record.account ?? ""
            ledger.seq.append(record.seq)
            ledger.at.append(record.at.microseconds)
            ledger.actor.append(record.actor)
            ledger.kind.append(record.kind)
            ledger.account.append(account)
            ledger.body.append(record.body)
            ledger.digest.append(record.contentSha256 ?? "")
            ledger.hash.append(ByteBuffer(bytes: row.hash))
            ledger.enc.append(ByteBuffer(bytes: row.enc))
            heads[account] = max(heads[account] ?? 0, record.seq)
            if let text = row.content, let conversation = row.conversation {
                content.seq.append(record.seq)
                content.account.append(account)
                content.conversation.append(conversation)
                content.feedback.append(row.feedback ?? "")
                content.text.append(text)
            }
            if let id = row.newConversation {
                conversations.id.append(id)
                conversations.account.append(account)
                conversations.seq.append(record.seq)
            }
            if let id = row.newFeedback, let conversation = row.conversation {
                feedback.id.append(id)
                feedback.account.append(account)
                feedback.conversation.append(conversation)
                feedback.seq.append(record.seq)
            }
        }
        headAccounts = Array(heads.keys)
        headSeqs = headAccounts.map { heads[$0]! }
    }
}

/// An append's whole write under the chain lock: the ledger entries, content, new conversations
/// and feedback, the accounts' heads, the webhook deliveries of the new entries (from the rows
/// inserted: a statement does not see its own inserts) and the chain's head. The empty string
/// stands for NULL in the arrays (account events always name their account; a digest or a
/// feedback id is never empty).
struct AppendWriteStatement: PostgresPreparedStatement {
    static let name = "assent_append_write_1"
    static let sql = """
        WITH ledger_rows AS (
            INSERT INTO ledger (seq, at, actor, kind, account, body, content_sha256, hash, recorded_at, enc)
            SELECT seq, at, actor, kind, account, body, nullif(digest, ''), hash, $10::bigint, enc
            FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[],
                $9::bytea[]) AS r(seq, at, actor, kind, account, body, digest, hash, enc)
            RETURNING seq, account, kind
        ), content_rows AS (
            INSERT INTO content (seq, account, conversation, feedback, text)
            SELECT seq, account, conversation, nullif(feedback, ''), text
            FROM unnest($11::bigint[], $12::text[], $13::text[], $14::text[], $15::text[]) AS r(seq, account, conversation, feedback, text)
        ), conversation_rows AS (
            INSERT INTO conversations (id, account, first_seq) SELECT * FROM unnest($16::text[], $17::text[], $18::bigint[])
        ), feedback_rows AS (
            INSERT INTO feedback (id, account, conversation, seq) SELECT * FROM unnest($19::text[], $20::text[], $21::text[], $22::bigint[])
        ), account_rows AS (
            INSERT INTO accounts (account, last_seq) SELECT * FROM unnest($23::text[], $24::bigint[])
            ON CONFLICT (account) DO UPDATE SET last_seq = greatest(accounts.last_seq, excluded.last_seq)
        ), head_row AS (
            UPDATE ledger_head SET last_seq = $25::bigint, last_hash = $26::bytea, horizon = $27::bigint WHERE id = 1
        )
        INSERT INTO webhook_deliveries (webhook, seq, account, created_at, next_attempt_at)
        SELECT w.id, l.seq, l.account, $10::bigint, $10::bigint FROM webhooks w CROSS JOIN ledger_rows l
        WHERE l.account IS NOT NULL AND w.removed_at IS NULL AND position(',' || l.kind || ',' in w.kinds) > 0
        """
    typealias Row = Void

    var rows: WriteRows
    var head: PostgresStore.Head
    /// The wall clock: the entries' `recorded_at` and the deliveries' creation.
    var now: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 27)
        let (ledger, content, conversations, feedback) = (rows.ledger, rows.content, rows.conversations, rows.feedback)
        bindings.append(ledger.seq)
        bindings.append(ledger.at)
        bindings.append(ledger.actor)
        bindings.append(ledger.kind)
        bindings.append(ledger.account)
        bindings.append(ledger.body)
        bindings.append(ledger.digest)
        bindings.append(ledger.hash)
        bindings.append(ledger.enc)
        bindings.append(now)
        bindings.append(content.seq)
        bindings.append(content.account)
        bindings.append(content.conversation)
        bindings.append(content.feedback)
        bindings.append(content.text)
        bindings.append(conversations.id)
        bindings.append(conversations.account)
        bindings.append(conversations.seq)
        bindings.append(feedback.id)
        bindings.append(feedback.account)
        bindings.append(feedback.conversation)
        bindings.append(feedback.seq)
        bindings.append(rows.headAccounts)
        bindings.append(rows.headSeqs)
        bindings.append(head.lastSeq)
        bindings.append(ByteBuffer(bytes: head.lastHash))
        bindings.append(head.horizon?.microseconds)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {}
}
