import AssentCore
import Testing

/// What a sweep at T purges (SPEC §5), decided by the engine.
@Suite("Purges (SPEC §5)")
struct PurgeTests {
    @Test("content past its retention is purged once; content within it is kept")
    func purges() {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.activity("2025-09-01T00:00:00Z", "old")  // no choice: 30 days
        b.feedback("2025-09-01T00:01:00Z", "f1", conversation: "old")  // feedback: five years
        b.acceptAndChoose("2025-09-05T00:00:00Z", .on)
        b.activity("2025-09-06T00:00:00Z", "kept")  // opted in: five years
        let at = t("2025-10-01T00:00:00Z")
        let purges = b.engine.purges(in: b.timeline, at: at)
        #expect(purges.map(\.event.body) == [.contentPurged(conversation: "old", feedback: nil)])
        #expect(purges[0].entries.map(\.type) == [.conversationActivity])
        #expect(purges[0].event.at == at)
        // Exactly at retainUntil it goes; a moment before, it stays.
        #expect(b.engine.purges(in: b.timeline, at: t("2025-09-30T23:59:59Z")).isEmpty)
        // Recorded, it is not purged again.
        b.must("2025-10-01T00:00:00Z", purges[0].event.body)
        #expect(b.engine.purges(in: b.timeline, at: t("2025-10-02T00:00:00Z")).isEmpty)
    }

    @Test("a deleted account's content is purged at deletion + 30 days, feedback included")
    func deletedAccount() {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.acceptAndChoose("2025-09-05T00:00:00Z", .on)
        b.activity("2025-09-06T00:00:00Z")
        b.feedback("2025-09-06T00:01:00Z")
        b.deleteAccount("2025-09-10T00:00:00Z")
        #expect(b.engine.purges(in: b.timeline, at: t("2025-10-09T00:00:00Z")).isEmpty)
        let purges = b.engine.purges(in: b.timeline, at: t("2025-10-10T00:00:00Z"))
        #expect(
            purges.map(\.event.body) == [
                .contentPurged(conversation: "c1", feedback: nil), .contentPurged(conversation: "c1", feedback: "f1"),
            ])
    }
}
