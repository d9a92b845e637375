public import AssentCore

/// Page sessions ended before their cookie expires (a user's or an operator's sign-out), where
/// every server of the database sees them: a session cookie is signed, not stored, so without
/// this list a copy of it taken before the sign-out would open the pages until its expiry.
public protocol EndedSessions: Sendable {
    /// Records that the session whose cookie has this digest (hex SHA-256) ended: it opens
    /// nothing from then on. Kept until `expiresAt` (the cookie's own expiry, when it opens nothing
    /// anyway); sessions whose expiry is at or before `now` are forgotten in the same write.
    func endSession(digest: String, expiresAt: Instant, now: Instant) async throws

    /// Whether the session whose cookie has this digest was ended.
    func isSessionEnded(digest: String) async throws -> Bool
}
