import AssentCore
import AssentStore
import Testing

/// An import is validated a chunk at a time (`EventIngest.chunkSize` events); on PostgreSQL each
/// chunk is copied to the stage while the next is validated, so the next chunk's loads run before
/// the copy. What the chunk before created must count all the same.
@Suite("Imports across a chunk's edge")
struct ImportChunkTests {
    /// `count` lines that touch nothing the test looks at.
    static func filler(_ count: Int) -> [String] {
        (0..<count).map { Lines.created("filler\($0)", "2025-07-01T00:00:00Z") }
    }

    @Test("an account created by the chunk's last line, its timeline not cached: the next chunk sees it", arguments: Backend.all)
    func timelineFromChunkBefore(backend: Backend) async throws {
        // A budget no timeline fits in: every account is loaded again for each chunk.
        let opened = try await backend.makeWithCacheBudget(1)
        defer { opened.cleanup() }
        let lines =
            Self.filler(EventIngest.chunkSize - 1) + [Lines.created("a1", "2025-07-01T00:00:00Z")]
            + [Lines.activity("a1", "c1", "2025-08-01T00:00:00Z", content: "first"), Lines.accepted("a1", "2025-09-01T00:00:00Z")]
        let summary = try await opened.store.importLines(lines)
        #expect(summary.events == lines.count)
        #expect(try await opened.store.timeline(of: "a1")?.entries.count == 3)
        #expect(try await opened.store.verifyLedger().ok)
        try await opened.store.close()
    }

    @Test(
        "a conversation created by the chunk's last line, claimed by another account in the next: refused, nothing written",
        arguments: Backend.all)
    func idFromChunkBefore(backend: Backend) async throws {
        let opened = try await backend.make()
        defer { opened.cleanup() }
        let store = opened.store
        let before = try await store.lastSeq()
        let lines =
            [Lines.created("a1", "2025-07-01T00:00:00Z"), Lines.created("a2", "2025-07-01T00:00:00Z")]
            + Self.filler(EventIngest.chunkSize - 3) + [Lines.activity("a1", "cX", "2025-08-01T00:00:00Z")]
            + [Lines.activity("a2", "cX", "2025-08-02T00:00:00Z")]
        let error = await store.importError(lines)
        #expect(error?.message.hasPrefix("line \(EventIngest.chunkSize + 1): ") == true, "\(String(describing: error))")
        #expect(try await store.lastSeq() == before, "nothing of the import")
        #expect(try await store.account(ofConversation: "cX") == nil)
        try await store.close()
    }

    @Test("feedback created by the chunk's last line, submitted again by another account in the next: refused", arguments: Backend.all)
    func feedbackFromChunkBefore(backend: Backend) async throws {
        let opened = try await backend.make()
        defer { opened.cleanup() }
        let store = opened.store
        let lines =
            Lines.optedIn("a1", conversation: "c1") + Lines.optedIn("a2", conversation: "c2")
            + Self.filler(EventIngest.chunkSize - 11) + [Lines.feedback("a1", "c1", "fX", "2025-09-03T00:00:00Z")]
            + [Lines.feedback("a2", "c2", "fX", "2025-09-04T00:00:00Z")]
        let error = await store.importError(lines)
        #expect(error?.message.hasPrefix("line \(EventIngest.chunkSize + 1): ") == true, "\(String(describing: error))")
        try await store.close()
    }
}
