import AssentCore
import AssentStore

/// This server's copy of the store's list of ended page sessions (``EndedSessions``): a page
/// request asks it, not the database, whether its cookie was signed out — by itself, or by an
/// ending of every session of its account ("sign out everywhere") — and a user token whether it
/// was issued before its account's sign-out everywhere.
///
/// A sign-out made here is in the copy at once. Another server's reaches it within
/// ``maxAge``: a request that finds the copy older than that first reads the sessions ended since
/// the newest one it holds (less ``overlap``, for a sign-out whose row committed after a later
/// one's); requests arriving meanwhile wait for that same read. Until a read has returned a
/// session, each reads every ended session not yet forgotten. Entries are dropped once their
/// cookie has expired.
actor SessionEndings {
    /// How old the copy may be when a request is answered from it.
    static let maxAge: Int64 = 1_000_000
    /// How far before the newest ended session it holds a catch-up read starts.
    static let overlap: Int64 = 10_000_000

    /// The first 128 bits of a cookie's digest: enough to tell sessions apart, half the memory.
    struct Key: Hashable {
        let high: UInt64
        let low: UInt64

        /// The first 32 hex digits of `digest`, read in place (asked on every page request).
        init?(_ digest: String) {
            var high: UInt64 = 0
            var low: UInt64 = 0
            var count = 0
            for byte in digest.utf8.prefix(32) {
                let nibble: UInt8
                switch byte {
                case 0x30...0x39: nibble = byte - 0x30
                case 0x61...0x66: nibble = byte - 0x57
                case 0x41...0x46: nibble = byte - 0x37
                default: return nil
                }
                if count < 16 { high = high << 4 | UInt64(nibble) } else { low = low << 4 | UInt64(nibble) }
                count += 1
            }
            guard count == 32 else { return nil }
            self.high = high
            self.low = low
        }
    }

    private let store: any EndedSessions
    /// Ended sessions → their cookie's expiry (µs).
    private var ended: [Key: Int64] = [:]
    /// Accounts whose sessions opened at or before `before` were ended (µs), and their tokens
    /// issued at or before `tokensBefore` when set, until `expiresAt`.
    private var endedAccounts: [AccountID: (before: Int64, tokensBefore: Int64?, expiresAt: Int64)] = [:]
    /// The newest `endedAt` of an account's ending read from the store, nil before the first read.
    private var newestOfAccounts: Int64?
    /// The newest `endedAt` read from the store, nil before the first read.
    private var newest: Int64?
    /// When the copy was last brought up to date (the app's clock, µs).
    private var refreshedAt: Int64?
    private var refreshing: Task<Void, any Error>?

    init(store: any EndedSessions) {
        self.store = store
    }

    /// Whether the session of `account` whose cookie has this digest and was opened at `openedAt`
    /// (nil: a cookie that does not say, opened before any ending of its account) was ended, here
    /// or on any server of the database (within ``maxAge``). A nil `account` (a console session)
    /// asks of the cookie alone.
    func isEnded(digest: String, account: AccountID?, openedAt: Instant?, now: Instant) async throws -> Bool {
        guard let key = Key(digest) else { return false }
        try await refreshIfStale(now: now)
        if ended[key] != nil { return true }
        guard let account, let ending = endedAccounts[account] else { return false }
        return openedAt.map { $0.microseconds <= ending.before } ?? true
    }

    /// Whether a user token of `account` issued at `issuedAt` (nil: a token without `iat`, which
    /// cannot show it came after) was ended, here or on any server of the database (within
    /// ``maxAge``).
    func isTokenEnded(account: AccountID, issuedAt: Instant?, now: Instant) async throws -> Bool {
        try await refreshIfStale(now: now)
        guard let tokensBefore = endedAccounts[account]?.tokensBefore else { return false }
        return issuedAt.map { $0.microseconds <= tokensBefore } ?? true
    }

    private func refreshIfStale(now: Instant) async throws {
        if refreshedAt.map({ now.microseconds >= $0 && now.microseconds - $0 < Self.maxAge }) != true {
            try await refresh(now: now)
        }
    }

    /// A sign-out made by this server: in the copy at once.
    func note(digest: String, expiresAt: Instant) {
        if let key = Key(digest) { ended[key] = expiresAt.microseconds }
    }

    /// An ending of every session of an account (made by this server: in the copy at once; or
    /// read from the store): each instant moves forward, never back.
    func note(_ ending: EndedAccountSessions) {
        let held = endedAccounts[ending.account]
        let tokensBefore = ending.tokensBefore.map { max($0.microseconds, held?.tokensBefore ?? .min) } ?? held?.tokensBefore
        endedAccounts[ending.account] = (
            max(held?.before ?? .min, ending.before.microseconds), tokensBefore,
            max(held?.expiresAt ?? .min, ending.expiresAt.microseconds)
        )
    }

    /// Many endings made by this server (an import's): in the copy at once, in one call.
    func note(_ endings: [EndedAccountSessions]) {
        for ending in endings { note(ending) }
    }

    private func refresh(now: Instant) async throws {
        if let refreshing { return try await refreshing.value }
        let since = newest.map { $0 - Self.overlap }
        let accountsSince = newestOfAccounts.map { $0 - Self.overlap }
        let store = self.store
        let task = Task {
            async let sessions = store.endedSessions(since: since)
            async let accounts = store.endedAccountSessions(since: accountsSince)
            self.apply(try await sessions, try await accounts, now: now)
        }
        refreshing = task
        defer { refreshing = nil }
        try await task.value
    }

    private func apply(_ sessions: [EndedSession], _ accounts: [EndedAccountSessions], now: Instant) {
        for session in sessions {
            if let key = Key(session.digest) { ended[key] = session.expiresAt.microseconds }
            newest = max(newest ?? session.endedAt, session.endedAt)
        }
        for ending in accounts {
            note(ending)
            newestOfAccounts = max(newestOfAccounts ?? ending.endedAt, ending.endedAt)
        }
        // While nothing was ever read, the next read asks for every ended session again (the
        // store's clock, not this server's, orders them: no instant of this server's is a start).
        ended = ended.filter { $0.value > now.microseconds }
        endedAccounts = endedAccounts.filter { $0.value.expiresAt > now.microseconds }
        refreshedAt = now.microseconds
    }
}
