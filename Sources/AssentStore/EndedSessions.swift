public import AssentCore

/// Page sessions ended before their cookie expires (a user's or an operator's sign-out), where
/// every server of the database sees them: a session cookie is signed, not stored, so without
/// this list a copy of it taken before the sign-out would open the pages until its expiry.
public protocol EndedSessions: Sendable {
    /// Records that the session whose cookie has this digest (hex SHA-256) ended: it opens
    /// nothing from then on. Kept until `expiresAt` (the cookie's own expiry, when it opens nothing
    /// anyway); sessions whose expiry is at or before `now` are forgotten in the same write.
    func endSession(digest: String, expiresAt: Instant, now: Instant) async throws

    /// The sessions ended at or after `since` on the store's clock (``EndedSession/endedAt``), or
    /// every one not yet forgotten when nil: what a server's copy of the list reads to catch up.
    func endedSessions(since: Int64?) async throws -> [EndedSession]

    /// Ends every page session of `account` opened at or before `before` ("sign out everywhere"),
    /// and, when `tokensBefore` is given, every user token of it issued at or before that instant:
    /// kept until `expiresAt` (when every such session and token has expired, as far as Assent can
    /// know). A later ending of the same account moves each instant forward, never back (an ending
    /// without `tokensBefore` leaves the tokens' as it was); endings whose expiry is at or before
    /// `now` are forgotten in the same write.
    func endAccountSessions(account: AccountID, before: Instant, tokensBefore: Instant?, expiresAt: Instant, now: Instant)
        async throws

    /// Ends every page session of each of `accounts` opened at or before `before`, as
    /// ``endAccountSessions(account:before:tokensBefore:expiresAt:now:)`` does for one (with no
    /// tokens' instant), in one write: an import's deletions, which may be millions.
    func endAccountSessions(accounts: [AccountID], before: Instant, expiresAt: Instant, now: Instant) async throws

    /// The accounts whose sessions were ended (``endAccountSessions(account:before:tokensBefore:expiresAt:now:)``)
    /// at or after `since` on the store's clock, or every one not yet forgotten when nil.
    func endedAccountSessions(since: Int64?) async throws -> [EndedAccountSessions]
}

/// Every page session of an account opened at or before an instant, ended — and, after a sign-out
/// everywhere (not after a deletion), every user token of it issued at or before another.
public struct EndedAccountSessions: Sendable, Equatable {
    public var account: AccountID
    /// Sessions opened at or before this instant (on the clock of the server that opened them)
    /// open nothing.
    public var before: Instant
    /// User tokens issued (`iat`) at or before this instant, or carrying no `iat`, authenticate
    /// nothing; nil when no ending of the account ended its tokens.
    public var tokensBefore: Instant?
    public var expiresAt: Instant
    /// When it was last ended, in microseconds of the store's clock (``EndedSession/endedAt``).
    public var endedAt: Int64

    public init(account: AccountID, before: Instant, tokensBefore: Instant? = nil, expiresAt: Instant, endedAt: Int64) {
        self.account = account
        self.before = before
        self.tokensBefore = tokensBefore
        self.expiresAt = expiresAt
        self.endedAt = endedAt
    }
}

/// A session ended before its expiry, as the store keeps it.
public struct EndedSession: Sendable, Equatable {
    /// The hex SHA-256 of the session's cookie.
    public var digest: String
    public var expiresAt: Instant
    /// When it was ended, in microseconds of the store's clock (PostgreSQL's own, so that servers
    /// whose clocks differ read one order; on SQLite the caller's `now`).
    public var endedAt: Int64

    public init(digest: String, expiresAt: Instant, endedAt: Int64) {
        self.digest = digest
        self.expiresAt = expiresAt
        self.endedAt = endedAt
    }
}
