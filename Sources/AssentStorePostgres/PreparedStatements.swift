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
