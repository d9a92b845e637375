import AssentCore
import AssentService
import AssentStore
import Synchronization
import Testing

extension EndedSessions {
    /// Whether the store holds the session as ended (every one it holds, read).
    func holds(_ digest: String) async throws -> Bool { try await endedSessions(since: nil).contains { $0.digest == digest } }
}

/// Page sessions ended at sign-out, kept by the store: seen by a second store on the same
/// database (another server, or the same one restarted), forgotten once their cookie expired.
@Suite("Ended sessions")
struct EndedSessionsTests {
    static let start = t("2025-10-02T00:00:00Z")

    static func at(_ hours: Int64) -> Instant { Instant(microseconds: start.microseconds + hours * 3_600_000_000) }

    @Test("an ended session is ended for every store of the database, and only that one", arguments: Backend.all)
    func seenByEveryStore(backend: Backend) async throws {
        try await withFreshStore(backend) { opened async throws in
            let store = opened.store
            #expect(try await store.holds("aa") == false)
            try await store.endSession(digest: "aa", expiresAt: Self.at(12), now: Self.at(0))
            #expect(try await store.holds("aa"))
            #expect(try await store.holds("ab") == false)
            // Ending it again (a second tab's sign-out) is no error and changes nothing.
            try await store.endSession(digest: "aa", expiresAt: Self.at(12), now: Self.at(1))
            let second = try await opened.reopen()
            #expect(try await second.holds("aa"))
            try await second.endSession(digest: "bb", expiresAt: Self.at(13), now: Self.at(1))
            #expect(try await store.holds("bb"))
            try await second.close()
        }
    }

    @Test("a sign-out forgets the sessions whose cookies have expired, and keeps the others", arguments: Backend.all)
    func expiredForgotten(backend: Backend) async throws {
        try await withFreshStore(backend) { opened async throws in
            let store = opened.store
            try await store.endSession(digest: "early", expiresAt: Self.at(2), now: Self.at(0))
            try await store.endSession(digest: "late", expiresAt: Self.at(12), now: Self.at(0))
            try await store.endSession(digest: "new", expiresAt: Self.at(14), now: Self.at(2))
            #expect(try await store.holds("early") == false, "its cookie expired at the second sign-out")
            #expect(try await store.holds("late"))
            #expect(try await store.holds("new"))
        }
    }

    @Test(
        "a catch-up read returns the sessions ended since an instant of the store's clock, in the order they were ended",
        arguments: Backend.all)
    func endedSince(backend: Backend) async throws {
        try await withFreshStore(backend) { opened async throws in
            let store = opened.store
            #expect(try await store.endedSessions(since: nil).isEmpty)
            try await store.endSession(digest: "aa", expiresAt: Self.at(12), now: Self.at(0))
            try await store.endSession(digest: "bb", expiresAt: Self.at(13), now: Self.at(1))
            let all = try await store.endedSessions(since: nil)
            #expect(Set(all.map(\.digest)) == ["aa", "bb"])
            let a = try #require(all.first { $0.digest == "aa" }), b = try #require(all.first { $0.digest == "bb" })
            #expect(a.endedAt <= b.endedAt)
            #expect(b.expiresAt == Self.at(13))
            #expect(try await store.endedSessions(since: b.endedAt).map(\.digest).contains("bb"))
            #expect(try await store.endedSessions(since: b.endedAt + 1).isEmpty)
        }
    }

    @Test(
        "an account's sessions ended: kept for every store, moved forward and never back, read since an instant, forgotten once expired",
        arguments: Backend.all)
    func accountSessionsEnded(backend: Backend) async throws {
        try await withFreshStore(backend) { opened async throws in
            let store = opened.store
            #expect(try await store.endedAccountSessions(since: nil).isEmpty)
            try await store.endAccountSessions(
                account: "a1", before: Self.at(1), tokensBefore: nil, expiresAt: Self.at(13), now: Self.at(1))
            try await store.endAccountSessions(
                account: "a2", before: Self.at(2), tokensBefore: nil, expiresAt: Self.at(14), now: Self.at(2))
            let second = try await opened.reopen()
            var all = try await second.endedAccountSessions(since: nil)
            #expect(Set(all.map(\.account)) == ["a1", "a2"])
            let a1 = try #require(all.first { $0.account == "a1" })
            #expect(a1.before == Self.at(1) && a1.expiresAt == Self.at(13))
            // Ended again later: both instants move forward, and the ending is read as new.
            try await second.endAccountSessions(
                account: "a1", before: Self.at(3), tokensBefore: nil, expiresAt: Self.at(15), now: Self.at(3))
            let moved = try #require(try await store.endedAccountSessions(since: nil).first { $0.account == "a1" })
            #expect(moved.before == Self.at(3) && moved.expiresAt == Self.at(15))
            #expect(moved.endedAt >= a1.endedAt)
            #expect(try await store.endedAccountSessions(since: moved.endedAt).map(\.account).contains("a1"))
            #expect(try await store.endedAccountSessions(since: moved.endedAt + 1).isEmpty)
            // An earlier instant (a server whose clock is behind) does not move it back.
            try await store.endAccountSessions(
                account: "a1", before: Self.at(2), tokensBefore: nil, expiresAt: Self.at(14), now: Self.at(2))
            let kept = try #require(try await store.endedAccountSessions(since: nil).first { $0.account == "a1" })
            #expect(kept.before == Self.at(3) && kept.expiresAt == Self.at(15))
            // Past a2's expiry a write forgets it; a1 ended again after its own expiry starts over.
            try await store.endAccountSessions(
                account: "a1", before: Self.at(16), tokensBefore: nil, expiresAt: Self.at(28), now: Self.at(16))
            all = try await store.endedAccountSessions(since: nil)
            #expect(all.map(\.account) == ["a1"])
            #expect(all.first?.before == Self.at(16) && all.first?.expiresAt == Self.at(28))
            try await second.close()
        }
    }

    @Test(
        "an account's tokens ended: kept for every store, moved forward and never back, left as they were by an ending of its page sessions only",
        arguments: Backend.all)
    func accountTokensEnded(backend: Backend) async throws {
        try await withFreshStore(backend) { opened async throws in
            let store = opened.store
            func a1(_ store: any Store) async throws -> EndedAccountSessions {
                try #require(try await store.endedAccountSessions(since: nil).first { $0.account == "a1" })
            }
            // A deletion's ending: page sessions only.
            try await store.endAccountSessions(
                account: "a1", before: Self.at(1), tokensBefore: nil, expiresAt: Self.at(13), now: Self.at(1))
            #expect(try await a1(store).tokensBefore == nil)
            // A sign-out everywhere: tokens too, read by a second store.
            try await store.endAccountSessions(
                account: "a1", before: Self.at(2), tokensBefore: Self.at(2), expiresAt: Self.at(720), now: Self.at(2))
            let second = try await opened.reopen()
            var ending = try await a1(second)
            #expect(ending.tokensBefore == Self.at(2) && ending.before == Self.at(2) && ending.expiresAt == Self.at(720))
            // A later deletion moves the page sessions' instant and leaves the tokens' as it was.
            try await second.endAccountSessions(
                account: "a1", before: Self.at(5), tokensBefore: nil, expiresAt: Self.at(17), now: Self.at(5))
            ending = try await a1(store)
            #expect(ending.before == Self.at(5) && ending.tokensBefore == Self.at(2) && ending.expiresAt == Self.at(720))
            // An earlier instant (a server whose clock is behind) does not move it back; a later one moves it.
            try await store.endAccountSessions(
                account: "a1", before: Self.at(1), tokensBefore: Self.at(1), expiresAt: Self.at(719), now: Self.at(1))
            #expect(try await a1(store).tokensBefore == Self.at(2))
            try await store.endAccountSessions(
                account: "a1", before: Self.at(6), tokensBefore: Self.at(6), expiresAt: Self.at(724), now: Self.at(6))
            ending = try await a1(second)
            #expect(ending.before == Self.at(6) && ending.tokensBefore == Self.at(6) && ending.expiresAt == Self.at(724))
            // Another account's ending without tokens holds none.
            try await store.endAccountSessions(
                account: "a2", before: Self.at(7), tokensBefore: nil, expiresAt: Self.at(19), now: Self.at(7))
            #expect(try await store.endedAccountSessions(since: nil).first { $0.account == "a2" }?.tokensBefore == nil)
            try await second.close()
        }
    }

    @Test(
        "many accounts' sessions ended in one write: each as alone, moved forward and never back, an account twice no error, tokens' instants left as they were",
        arguments: Backend.all)
    func manyAccountsEnded(backend: Backend) async throws {
        try await withFreshStore(backend) { opened async throws in
            let store = opened.store
            try await store.endAccountSessions(accounts: [], before: Self.at(1), expiresAt: Self.at(13), now: Self.at(1))
            #expect(try await store.endedAccountSessions(since: nil).isEmpty)
            try await store.endAccountSessions(
                account: "a1", before: Self.at(2), tokensBefore: Self.at(2), expiresAt: Self.at(720), now: Self.at(2))
            try await store.endAccountSessions(
                account: "a2", before: Self.at(9), tokensBefore: nil, expiresAt: Self.at(21), now: Self.at(9))
            let many = (0..<1_200).map { "b\($0)" }
            try await store.endAccountSessions(
                accounts: ["a1", "a2"] + many + ["a1"], before: Self.at(5), expiresAt: Self.at(17), now: Self.at(5))
            let second = try await opened.reopen()
            let all = Dictionary(uniqueKeysWithValues: try await second.endedAccountSessions(since: nil).map { ($0.account, $0) })
            #expect(all.count == 1_202)
            #expect(all["b0"]?.before == Self.at(5) && all["b1199"]?.expiresAt == Self.at(17) && all["b7"]?.tokensBefore == nil)
            // a1: moved forward, its tokens' instant and its longer expiry kept; a2: not moved back.
            #expect(all["a1"]?.before == Self.at(5) && all["a1"]?.tokensBefore == Self.at(2) && all["a1"]?.expiresAt == Self.at(720))
            #expect(all["a2"]?.before == Self.at(9) && all["a2"]?.expiresAt == Self.at(21))
            // Past their expiry, a later batch forgets them (and keeps those it names).
            try await store.endAccountSessions(accounts: ["b3"], before: Self.at(18), expiresAt: Self.at(30), now: Self.at(18))
            let left = Set(try await second.endedAccountSessions(since: nil).map(\.account))
            #expect(left == ["a1", "a2", "b3"])
            try await second.close()
        }
    }

    /// Two servers on one database holding accounts a1 and a2, on one clock the test moves: the
    /// second server's store (to close), the clock, the first server's app, the second's.
    static func twoServers(_ opened: OpenedStore) async throws -> (any Store, HandClock, AssentApp, AssentApp) {
        try await opened.store.importLines([
            #"{"type":"account.created","account":"a1","plan":"free","at":"2025-07-01T10:00:00Z"}"#,
            #"{"type":"account.created","account":"a2","plan":"free","at":"2025-07-01T10:00:00Z"}"#,
        ])
        let second = try await opened.reopen()
        let clock = HandClock()
        return (second, clock, AssentApp(store: opened.store, clock: clock.clock), AssentApp(store: second, clock: clock.clock))
    }

    /// A clock the test moves by hand.
    final class HandClock: Sendable {
        let instant = Mutex(EndedSessionsTests.at(0))
        var clock: Clock { Clock { self.instant.withLock { $0 } } }
        func advance(microseconds: Int64) { instant.withLock { $0 = Instant(microseconds: $0.microseconds + microseconds) } }
    }

    @Test(
        "a server's copy of the list: its own sign-out at once, another server's within a second, expired ones dropped",
        arguments: Backend.all)
    func serversCopies(backend: Backend) async throws {
        try await withFreshStore(backend) { opened async throws in
            let second = try await opened.reopen()
            let clock = HandClock()
            let one = AssentApp(store: opened.store, clock: clock.clock)
            let other = AssentApp(store: second, clock: clock.clock)
            let digest = String(repeating: "ab", count: 32)
            #expect(try await other.isSessionEnded(digest: digest) == false)  // the other server reads its copy now
            try await one.endSession(digest: digest, expiresAt: Self.at(12))
            #expect(try await one.isSessionEnded(digest: digest), "at once on the server that signed out")
            // The other's copy is less than a second old: it reads the store again only after that.
            clock.advance(microseconds: 1_000_000)
            #expect(try await other.isSessionEnded(digest: digest), "within a second on another server")
            // A later sign-out reaches it by a catch-up read (only what was ended since its newest).
            let later = String(repeating: "ef", count: 32)
            try await one.endSession(digest: later, expiresAt: Self.at(12))
            #expect(try await other.isSessionEnded(digest: later) == false, "its copy is fresh: no read yet")
            clock.advance(microseconds: 1_000_000)
            #expect(try await other.isSessionEnded(digest: later))
            // A third server that starts later reads every ended session.
            let third = AssentApp(store: second, clock: clock.clock)
            #expect(try await third.isSessionEnded(digest: digest))
            #expect(try await third.isSessionEnded(digest: String(repeating: "cd", count: 32)) == false)
            // Sessions are told apart by the digest's first 32 hex digits, both halves of them.
            #expect(try await third.isSessionEnded(digest: String(repeating: "ab", count: 8) + String(repeating: "cd", count: 24)) == false)
            // Past the cookie's expiry the entry is dropped (the cookie opens nothing anyway).
            clock.advance(microseconds: 12 * 3_600_000_000)
            #expect(try await other.isSessionEnded(digest: digest) == false)
            try await second.close()
        }
    }

    @Test(
        "every session of an account ended: those opened until then, on this server at once and within a second on another; no other account's",
        arguments: Backend.all)
    func accountEndingsCopies(backend: Backend) async throws {
        try await withFreshStore(backend) { opened async throws in
            let (second, clock, one, other) = try await Self.twoServers(opened)
            let digest = String(repeating: "ab", count: 32)
            let opened1 = Self.at(0)
            clock.advance(microseconds: 5_000_000)
            #expect(try await other.isSessionEnded(digest: digest, account: "a1", openedAt: opened1) == false)  // its copy read now
            let before = try await one.endAccountSessions("a1", lifetime: .seconds(12 * 3_600))
            #expect(before == clock.instant.withLock { $0 })
            #expect(try await one.isSessionEnded(digest: digest, account: "a1", openedAt: opened1), "at once here")
            #expect(try await one.isSessionEnded(digest: digest, account: "a1", openedAt: before), "opened at the instant: ended")
            #expect(try await one.isSessionEnded(digest: digest, account: "a1", openedAt: nil), "a cookie that does not say when")
            let after = Instant(microseconds: before.microseconds + 1)
            #expect(try await one.isSessionEnded(digest: digest, account: "a1", openedAt: after) == false, "opened after: not ended")
            #expect(try await one.isSessionEnded(digest: digest, account: "a2", openedAt: opened1) == false, "another account")
            #expect(try await one.isSessionEnded(digest: digest) == false, "a console session asks of its cookie only")
            #expect(try await other.isSessionEnded(digest: digest, account: "a1", openedAt: opened1) == false, "its copy is fresh")
            clock.advance(microseconds: 1_000_000)
            #expect(try await other.isSessionEnded(digest: digest, account: "a1", openedAt: opened1), "within a second there")
            #expect(try await other.isSessionEnded(digest: digest, account: "a1", openedAt: after) == false)
            // A server started later reads it; past its expiry it is dropped.
            let third = AssentApp(store: second, clock: clock.clock)
            #expect(try await third.isSessionEnded(digest: digest, account: "a1", openedAt: opened1))
            clock.advance(microseconds: 12 * 3_600_000_000)
            #expect(try await third.isSessionEnded(digest: digest, account: "a1", openedAt: opened1) == false)
            // Nothing is kept for an account that does not exist.
            await #expect(throws: AssentError.self) { try await one.endAccountSessions("nobody", lifetime: .seconds(60)) }
            #expect(try await second.endedAccountSessions(since: nil).map(\.account) == ["a1"])
            try await second.close()
        }
    }

    @Test(
        "a sign-out everywhere ends the account's tokens issued until then, on this server at once and within a second on another; a deletion's ending does not",
        arguments: Backend.all)
    func tokenEndingsCopies(backend: Backend) async throws {
        try await withFreshStore(backend) { opened async throws in
            let (second, clock, one, other) = try await Self.twoServers(opened)
            let issued = Self.at(0)
            clock.advance(microseconds: 5_000_000)
            #expect(try await other.isUserTokenEnded(account: "a1", issuedAt: issued) == false)  // its copy read now
            // Ending the page sessions alone (what a deletion does) ends no token.
            try await one.endAccountSessions("a1", lifetime: AssentApp.pageSessionLifetime)
            #expect(try await one.isUserTokenEnded(account: "a1", issuedAt: issued) == false)
            #expect(try await one.isUserTokenEnded(account: "a1", issuedAt: nil) == false)
            clock.advance(microseconds: 1_000_000)
            #expect(try await other.isUserTokenEnded(account: "a1", issuedAt: issued) == false)  // its copy read now
            let before = try await one.signOutEverywhere("a1")
            #expect(try await one.isUserTokenEnded(account: "a1", issuedAt: issued), "at once here")
            #expect(try await one.isUserTokenEnded(account: "a1", issuedAt: before), "issued at the instant: ended")
            #expect(try await one.isUserTokenEnded(account: "a1", issuedAt: nil), "a token without iat")
            let after = Instant(microseconds: before.microseconds + 1)
            #expect(try await one.isUserTokenEnded(account: "a1", issuedAt: after) == false, "issued after: not ended")
            #expect(try await one.isUserTokenEnded(account: "a2", issuedAt: issued) == false, "another account")
            // A later ending of the page sessions only (a deletion's) leaves the tokens ended.
            try await one.endAccountSessions("a1", lifetime: AssentApp.pageSessionLifetime)
            #expect(try await one.isUserTokenEnded(account: "a1", issuedAt: issued), "kept by a page-sessions-only ending")
            #expect(try await one.isSessionEnded(digest: String(repeating: "ab", count: 32), account: "a1", openedAt: before))
            #expect(try await other.isUserTokenEnded(account: "a1", issuedAt: issued) == false, "its copy is fresh")
            clock.advance(microseconds: 1_000_000)
            #expect(try await other.isUserTokenEnded(account: "a1", issuedAt: issued), "within a second there")
            // Kept longer than a page session: a server started a day later still refuses it; past 30 days, dropped.
            clock.advance(microseconds: 24 * 3_600_000_000)
            let third = AssentApp(store: second, clock: clock.clock)
            #expect(try await third.isUserTokenEnded(account: "a1", issuedAt: issued))
            #expect(try await third.isSessionEnded(digest: String(repeating: "ab", count: 32), account: "a1", openedAt: issued))
            clock.advance(microseconds: 30 * 86_400_000_000)
            #expect(try await third.isUserTokenEnded(account: "a1", issuedAt: issued) == false)
            await #expect(throws: AssentError.self) { try await one.signOutEverywhere("nobody") }
            try await second.close()
        }
    }
}
