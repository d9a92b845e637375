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
