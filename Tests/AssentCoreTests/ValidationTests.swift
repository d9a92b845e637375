import AssentCore
import Testing

/// SPEC §6's refusals, judged on the timeline with the new event merged in.
@Suite("Event validation (SPEC §6)")
struct ValidationTests {
    static func existing() -> TimelineBuilder {
        var b = TimelineBuilder(now: t("2026-11-26T00:00:00Z"))
        b.created("2025-07-01T10:00:00Z")
        return b
    }

    /// The refusal code of adding one event, and that nothing was recorded.
    static func refusal(_ b: TimelineBuilder, _ at: String, _ body: Event.Body) -> String? {
        var copy = b
        let before = copy.timeline.entries
        let error = thrownError { try copy.add(at, body) }
        if error != nil {
            #expect(copy.timeline.entries == before, "a refused event must leave the timeline unchanged")
        }
        return error?.code.rawValue
    }

    @Test("an unknown plan is refused, on creation and on change")
    func unknownPlan() {
        let b = TimelineBuilder()
        #expect(Self.refusal(b, "2025-07-01T00:00:00Z", .accountCreated(plan: "platinum")) == "invalid_event")
        #expect(Self.refusal(Self.existing(), "2025-07-02T00:00:00Z", .planChanged(plan: "platinum")) == "invalid_event")
    }

    @Test("an unknown or unpublished terms version is refused")
    func unknownTermsVersion() throws {
        #expect(Self.refusal(Self.existing(), "2025-09-01T00:00:00Z", .termsAccepted(version: "1999-01", source: .api)) == "invalid_event")
        var b = Self.existing()
        let doc = try PolicyDocument(json: #"{"version":"v2","effectiveFrom":"2026-01-01T00:00:00Z","termsVersion":"2026-01"}"#)
        b.policies = try b.policies.applying(doc, horizon: nil).0
        #expect(Self.refusal(b, "2025-12-31T00:00:00Z", .termsAccepted(version: "2026-01", source: .api)) == "invalid_event")
        #expect(Self.refusal(b, "2026-01-01T00:00:00Z", .termsAccepted(version: "2026-01", source: .api)) == nil)
        // An older published version can still be recorded (a backfill of what was accepted then).
        #expect(Self.refusal(b, "2026-01-02T00:00:00Z", .termsAccepted(version: "2025-09", source: .api)) == nil)
    }

    @Test("an instant in the future is refused")
    func future() {
        #expect(Self.refusal(Self.existing(), "2026-11-26T00:00:01Z", .noticeShown(surface: .notice)) == "invalid_event")
        #expect(Self.refusal(Self.existing(), "2026-11-26T00:00:00Z", .noticeShown(surface: .notice)) == nil)
    }

    @Test("an event for an account that does not exist at its instant is unknown_account")
    func unknownAccount() {
        #expect(Self.refusal(TimelineBuilder(), "2025-07-01T00:00:00Z", .planChanged(plan: "pro")) == "unknown_account")
        #expect(Self.refusal(Self.existing(), "2025-06-30T00:00:00Z", .noticeShown(surface: .signup)) == "unknown_account")
    }

    @Test("creating an account twice is refused")
    func duplicateAccount() {
        #expect(Self.refusal(Self.existing(), "2025-07-02T00:00:00Z", .accountCreated(plan: "free")) == "invalid_event")
    }

    @Test("feedback or deletion naming a conversation that does not exist is unknown_conversation")
    func unknownConversation() {
        let b = Self.existing()
        #expect(Self.refusal(b, "2025-07-02T00:00:00Z", .conversationDeleted(conversation: "c1")) == "unknown_conversation")
        #expect(
            Self.refusal(b, "2025-07-02T00:00:00Z", .feedbackSubmitted(conversation: "c1", feedback: "f1", rating: .up, comment: nil))
                == "unknown_conversation")
        var later = b
        later.activity("2025-07-05T00:00:00Z")
        #expect(Self.refusal(later, "2025-07-04T00:00:00Z", .conversationDeleted(conversation: "c1")) == "unknown_conversation")
    }

    @Test("a conversation of another account is refused")
    func foreignConversation() {
        var b = Self.existing()
        b.foreignConversations = ["c7": "a2"]
        b.foreignFeedback = ["f7": "a2"]
        #expect(
            Self.refusal(b, "2025-07-02T00:00:00Z", .conversationActivity(conversation: "c7", kind: .chat, incognito: false, content: nil))
                == "invalid_event")
        #expect(Self.refusal(b, "2025-07-02T00:00:00Z", .conversationDeleted(conversation: "c7")) == "invalid_event")
        b.activity("2025-07-02T00:00:00Z")
        #expect(
            Self.refusal(b, "2025-07-03T00:00:00Z", .feedbackSubmitted(conversation: "c1", feedback: "f7", rating: .up, comment: nil))
                == "invalid_event")
    }

    @Test("activity on a deleted conversation, or differing in incognito or kind, is refused")
    func conversationShape() {
        var b = Self.existing()
        b.activity("2025-07-02T00:00:00Z")
        #expect(
            Self.refusal(b, "2025-07-03T00:00:00Z", .conversationActivity(conversation: "c1", kind: .chat, incognito: true, content: nil))
                == "invalid_event")
        #expect(
            Self.refusal(b, "2025-07-03T00:00:00Z", .conversationActivity(conversation: "c1", kind: .code, incognito: false, content: nil))
                == "invalid_event")
        b.deleteConversation("2025-07-04T00:00:00Z")
        #expect(
            Self.refusal(b, "2025-07-05T00:00:00Z", .conversationActivity(conversation: "c1", kind: .chat, incognito: false, content: nil))
                == "invalid_event")
        #expect(Self.refusal(b, "2025-07-05T00:00:00Z", .conversationDeleted(conversation: "c1")) == "invalid_event")
        #expect(
            Self.refusal(b, "2025-07-05T00:00:00Z", .feedbackSubmitted(conversation: "c1", feedback: "f1", rating: .down, comment: nil))
                == "invalid_event")
    }

    @Test("a duplicate feedback id is refused")
    func duplicateFeedback() {
        var b = Self.existing()
        b.activity("2025-07-02T00:00:00Z")
        b.feedback("2025-07-02T00:00:01Z")
        #expect(
            Self.refusal(b, "2025-07-03T00:00:00Z", .feedbackSubmitted(conversation: "c1", feedback: "f1", rating: .down, comment: nil))
                == "invalid_event")
    }

    @Test("terms or a choice before the rollout is refused")
    func beforeRollout() {
        #expect(Self.refusal(Self.existing(), "2025-08-27T23:59:59Z", .termsAccepted(version: "2025-09", source: .api)) == "invalid_event")
        #expect(
            Self.refusal(Self.existing(), "2025-08-27T23:59:59Z", .trainingChoice(value: .on, source: .api, shownDefault: nil))
                == "invalid_event")
    }

    @Test("a choice with no terms accepted at or before it is terms_not_accepted")
    func termsNotAccepted() {
        #expect(
            Self.refusal(Self.existing(), "2025-09-01T00:00:00Z", .trainingChoice(value: .on, source: .settings, shownDefault: nil))
                == "terms_not_accepted")
        var b = Self.existing()
        b.accepted("2025-09-01T00:00:00Z")
        #expect(Self.refusal(b, "2025-09-01T00:00:00Z", .trainingChoice(value: .on, source: .settings, shownDefault: .off)) == nil)
    }

    @Test("any event after the account's deletion is account_deleted")
    func afterAccountDeletion() {
        var b = Self.existing()
        b.deleteAccount("2025-09-01T00:00:00Z")
        #expect(Self.refusal(b, "2025-09-02T00:00:00Z", .noticeShown(surface: .settings)) == "account_deleted")
        #expect(Self.refusal(b, "2025-09-01T00:00:00Z", .planChanged(plan: "pro")) == "account_deleted")
        #expect(Self.refusal(b, "2025-09-02T00:00:00Z", .accountDeleted) == "account_deleted")
        #expect(Self.refusal(b, "2025-09-02T00:00:00Z", .accountCreated(plan: "free")) == "account_deleted")
        // A backfill before the deletion is accepted.
        #expect(Self.refusal(b, "2025-08-30T00:00:00Z", .planChanged(plan: "pro")) == nil)
    }

    @Test("a deferral is accepted only while the notice is shown")
    func deferral() {
        #expect(Self.refusal(Self.existing(), "2025-09-01T00:00:00Z", .noticeDeferred) == nil)
        // At or after the deadline: deadline_passed, whatever else holds.
        #expect(Self.refusal(Self.existing(), "2025-09-28T00:00:00Z", .noticeDeferred) == "deadline_passed")
        var commercial = TimelineBuilder()
        commercial.created("2025-07-01T00:00:00Z", plan: "team")
        #expect(Self.refusal(commercial, "2025-10-01T00:00:00Z", .noticeDeferred) == "deadline_passed")
        // Before it: invalid_event for every other prompt state.
        #expect(Self.refusal(commercial, "2025-09-01T00:00:00Z", .noticeDeferred) == "invalid_event")
        #expect(Self.refusal(Self.existing(), "2025-08-27T00:00:00Z", .noticeDeferred) == "invalid_event")
        var decided = Self.existing()
        decided.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        #expect(Self.refusal(decided, "2025-09-02T00:00:00Z", .noticeDeferred) == "invalid_event")
        var newUser = TimelineBuilder()
        newUser.created("2025-09-01T00:00:00Z")
        #expect(Self.refusal(newUser, "2025-09-02T00:00:00Z", .noticeDeferred) == "invalid_event")
    }

    @Test("backfills: judged in time order; one that invalidates a recorded event is refused")
    func backfills() {
        var b = Self.existing()
        b.activity("2025-07-10T00:00:00Z")
        // A deletion before recorded activity would make that activity invalid.
        #expect(Self.refusal(b, "2025-07-05T00:00:00Z", .conversationDeleted(conversation: "c1")) == "unknown_conversation")
        #expect(Self.refusal(b, "2025-07-05T00:00:00Z", .accountDeleted) == "invalid_event")
        // A choice backfilled before recorded terms is terms_not_accepted on the merged timeline.
        var c = Self.existing()
        c.accepted("2025-09-05T00:00:00Z")
        #expect(
            Self.refusal(c, "2025-09-04T00:00:00Z", .trainingChoice(value: .on, source: .api, shownDefault: nil)) == "terms_not_accepted")
        // A valid backfill lands in time order.
        var d = Self.existing()
        d.activity("2025-07-10T00:00:00Z")
        d.must("2025-07-03T00:00:00Z", .planChanged(plan: "pro"))
        #expect(d.timeline.entries.map(\.event.type) == [.accountCreated, .planChanged, .conversationActivity])
        #expect(d.timeline.plan(at: .endOf(t("2025-07-04T00:00:00Z")))?.plan == "pro")
        // Backfilled first activity fixes incognito for the recorded one after it.
        #expect(
            Self.refusal(d, "2025-07-09T00:00:00Z", .conversationActivity(conversation: "c1", kind: .chat, incognito: true, content: nil))
                == "invalid_event")
    }

    @Test("events at one instant are ordered by sequence: a deletion at T refuses later events at T")
    func sameInstant() {
        var b = Self.existing()
        b.deleteAccount("2025-09-01T00:00:00Z")
        #expect(Self.refusal(b, "2025-09-01T00:00:00Z", .noticeShown(surface: .notice)) == "account_deleted")
    }

    @Test("an event for another account is refused by this account's timeline")
    func wrongAccount() {
        var timeline = AccountTimeline(account: "a1")
        let error = thrownError {
            try timeline.append(
                Event(account: "a2", at: t("2025-07-01T00:00:00Z"), .accountCreated(plan: "free")), seq: 1,
                validatingWith: ValidationContext(policies: PolicyHistory(), now: nil))
        }
        #expect(error?.code == .invalidEvent)
    }
}
