import AssentCore
import Testing

/// What each change-feed entry means for training (issue 14), decided by the core.
@Suite("Change feed effects")
struct ChangeFeedTests {
    /// The effect of the entry with sequence number `seq` in the builder's timeline.
    func effect(_ b: TimelineBuilder, _ seq: Int64) -> TrainingEffect {
        let entry = b.timeline.entries.first { $0.seq == seq }!
        return ChangeFeed.effect(of: entry, in: b.timeline, policies: b.policies)
    }

    @Test("each kind of entry, by plan and choice")
    func table() {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        let terms = b.accepted("2025-09-01T00:00:00Z")
        let on = b.choice("2025-09-01T00:00:01Z", .on)
        b.activity("2025-09-02T00:00:00Z")
        let team = b.plan("2025-09-03T00:00:00Z", "team")
        let onWhileTeam = b.choice("2025-09-04T00:00:00Z", .on)
        let free = b.plan("2025-09-05T00:00:00Z", "free")
        let off = b.choice("2025-09-06T00:00:00Z", .off)
        let pro = b.plan("2025-09-07T00:00:00Z", "pro")
        let deleted = b.deleteConversation("2025-09-08T00:00:00Z")
        let purged = b.must("2025-10-08T00:00:00Z", .contentPurged(conversation: "c1", feedback: nil))
        let account = b.deleteAccount("2025-10-09T00:00:00Z")
        let expected: [(Int64, TrainingEffect, String)] = [
            (terms, .excluded, "terms accepted, no choice yet"),
            (on, .included, "choice on under a consumer plan"),
            (team, .excluded, "a commercial plan is never trained on"),
            (onWhileTeam, .excluded, "choice on under a commercial plan"),
            (free, .included, "back to a consumer plan with the choice on"),
            (off, .excluded, "choice off"),
            (pro, .excluded, "a plan change with the choice off"),
            (deleted, .excluded, "conversation deleted"),
            (purged, .purged, "content purged"),
            (account, .excluded, "account deleted"),
        ]
        for (seq, effect, why) in expected {
            #expect(self.effect(b, seq) == effect, "\(why)")
        }
    }

    @Test("an entry means what it meant when written: a later backfill does not change it")
    func backfillDoesNotChangePastMeaning() {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.accepted("2025-09-01T00:00:00Z")
        let on = b.choice("2025-09-05T00:00:00Z", .on)
        #expect(effect(b, on) == .included)
        // Learnt later: the account was on a team plan from 09-04.
        b.plan("2025-09-04T00:00:00Z", "team")
        #expect(effect(b, on) == .included)
        let again = b.choice("2025-09-06T00:00:00Z", .on)
        #expect(effect(b, again) == .excluded, "a choice written after the backfill sees it")
    }

    @Test("the feed's types are exactly those that change what downstream may hold")
    func types() {
        #expect(
            Set(ChangeFeed.types) == [.trainingChoice, .termsAccepted, .conversationDeleted, .accountDeleted, .contentPurged, .planChanged])
        for type in EventType.allCases where !ChangeFeed.types.contains(type) {
            #expect([.accountCreated, .noticeDeferred, .conversationActivity, .feedbackSubmitted, .noticeShown].contains(type))
        }
    }
}
