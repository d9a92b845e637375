import AssentCore
import AssentStore
import Testing

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
            #expect(try await store.isSessionEnded(digest: "aa") == false)
            try await store.endSession(digest: "aa", expiresAt: Self.at(12), now: Self.at(0))
            #expect(try await store.isSessionEnded(digest: "aa"))
            #expect(try await store.isSessionEnded(digest: "ab") == false)
            // Ending it again (a second tab's sign-out) is no error and changes nothing.
            try await store.endSession(digest: "aa", expiresAt: Self.at(12), now: Self.at(1))
            let second = try await opened.reopen()
            #expect(try await second.isSessionEnded(digest: "aa"))
            try await second.endSession(digest: "bb", expiresAt: Self.at(13), now: Self.at(1))
            #expect(try await store.isSessionEnded(digest: "bb"))
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
            #expect(try await store.isSessionEnded(digest: "early") == false, "its cookie expired at the second sign-out")
            #expect(try await store.isSessionEnded(digest: "late"))
            #expect(try await store.isSessionEnded(digest: "new"))
        }
    }
}
