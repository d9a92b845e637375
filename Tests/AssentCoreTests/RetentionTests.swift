import AssentCore
import Testing

/// SPEC §5, one test per step, plus the boundaries.
@Suite("Retention (SPEC §5)")
struct RetentionTests {
    @Test("step 1: opted in at the last activity: last + optInRetention (5 calendar years)")
    func step1OptIn() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        b.activity("2025-09-02T08:30:00Z")
        let r = try b.retainUntil(at: "2025-10-01T00:00:00Z")
        #expect(r.retainUntil == t("2030-09-02T08:30:00Z"))
        #expect(r.rule == .optIn)
    }

    @Test("step 1: a commercial plan at the last activity: last + commercialRetention")
    func step1Commercial() throws {
        var b = TimelineBuilder()
        let doc = try PolicyDocument(json: #"{"version":"c","effectiveFrom":"2025-01-01T00:00:00Z","commercialRetention":"7d"}"#)
        b.policies = try b.policies.applying(doc, horizon: nil).0
        b.created("2025-07-01T10:00:00Z", plan: "api")
        b.activity("2025-09-02T00:00:00Z")
        let r = try b.retainUntil(at: "2025-09-03T00:00:00Z")
        #expect(r.retainUntil == t("2025-09-09T00:00:00Z"))
        #expect(r.rule == .commercial)
    }

    @Test("the retention in force for new activity follows the plan and the choice at T")
    func retentionInForce() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        #expect(try b.engine.retentionInForce(for: b.timeline, at: t("2025-08-01T00:00:00Z")) == (.days(30), .optOut))
        b.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        #expect(try b.engine.retentionInForce(for: b.timeline, at: t("2025-08-31T23:59:59Z")) == (.days(30), .optOut))
        #expect(try b.engine.retentionInForce(for: b.timeline, at: t("2025-09-01T00:00:00Z")) == (.years(5), .optIn))
        b.choice("2025-10-01T00:00:00Z", .off)
        #expect(try b.engine.retentionInForce(for: b.timeline, at: t("2025-10-01T00:00:00Z")) == (.days(30), .optOut))
        #expect(throws: AssentError.self) { try b.engine.retentionInForce(for: b.timeline, at: t("2025-06-01T00:00:00Z")) }
        var c = TimelineBuilder()
        c.created("2025-07-01T10:00:00Z", plan: "api")
        #expect(try c.engine.retentionInForce(for: c.timeline, at: t("2025-08-01T00:00:00Z")) == (.days(30), .commercial))
    }

    @Test("step 1: otherwise last + optOutRetention (30 days)")
    func step1OptOut() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.activity("2025-09-02T00:00:00Z")
        let r = try b.retainUntil(at: "2025-09-03T00:00:00Z")
        #expect(r.retainUntil == t("2025-10-02T00:00:00Z"))
        #expect(r.rule == .optOut)
    }

    @Test("step 1 reads the last activity at or before T, not later ones")
    func step1LastAtOrBeforeT() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.activity("2025-07-02T00:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        b.activity("2025-09-02T00:00:00Z")
        #expect(try b.retainUntil(at: "2025-08-01T00:00:00Z").retainUntil == t("2025-08-01T00:00:00Z"))
        #expect(try b.retainUntil(at: "2025-09-02T00:00:00Z").retainUntil == t("2030-09-02T00:00:00Z"))
    }

    @Test("step 2: turning the setting off shortens opt-in retention to O + 30d (the earliest such O)")
    func step2OptOutShortens() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        b.activity("2025-09-02T00:00:00Z")
        b.choice("2025-10-01T00:00:00Z", .off)
        b.choice("2025-10-05T00:00:00Z", .on)
        b.choice("2025-10-10T00:00:00Z", .off)
        let r = try b.retainUntil(at: "2025-10-20T00:00:00Z")
        #expect(r.retainUntil == t("2025-10-31T00:00:00Z"))
        #expect(r.rule == .optOutShortened)
        // Before the off choice, retention was still five years.
        #expect(try b.retainUntil(at: "2025-09-30T00:00:00Z").retainUntil == t("2030-09-02T00:00:00Z"))
    }

    @Test("step 2 does not apply when optOutShortensRetention is false")
    func step2Disabled() throws {
        var b = TimelineBuilder()
        let doc = try PolicyDocument(json: #"{"version":"keep","effectiveFrom":"2025-01-01T00:00:00Z","optOutShortensRetention":false}"#)
        b.policies = try b.policies.applying(doc, horizon: nil).0
        b.created("2025-07-01T10:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        b.activity("2025-09-02T00:00:00Z")
        b.choice("2025-10-01T00:00:00Z", .off)
        #expect(try b.retainUntil(at: "2025-10-20T00:00:00Z").retainUntil == t("2030-09-02T00:00:00Z"))
    }

    @Test("step 3: deleting the conversation caps at D + deletedRetention")
    func step3ConversationDeletion() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        b.activity("2025-09-02T00:00:00Z")
        b.deleteConversation("2025-09-05T00:00:00Z")
        let r = try b.retainUntil(at: "2025-09-05T00:00:00Z")
        #expect(r.retainUntil == t("2025-10-05T00:00:00Z"))
        #expect(r.rule == .deletion)
        #expect(r.evidence.last?.type == .conversationDeleted)
    }

    @Test("step 3: deleting the account caps every conversation; a later cap does not extend")
    func step3AccountDeletion() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.activity("2025-09-02T00:00:00Z")
        b.deleteAccount("2025-09-20T00:00:00Z")
        // optOut base 2025-10-02 is earlier than the deletion cap 2025-10-20.
        let r = try b.retainUntil(at: "2025-09-21T00:00:00Z")
        #expect(r.retainUntil == t("2025-10-02T00:00:00Z"))
        #expect(r.rule == .optOut)
    }

    @Test("5y from 29 February lands on 28 February")
    func leapDay() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        b.activity("2028-02-29T13:14:15Z")
        #expect(try b.retainUntil(at: "2028-03-01T00:00:00Z").retainUntil == t("2033-02-28T13:14:15Z"))
    }

    @Test("feedback: submittedAt + 5y whatever the choice, cut by deletion")
    func feedbackRetention() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.activity("2025-09-02T00:00:00Z")
        b.feedback("2025-09-02T00:01:00Z")
        let f = try b.engine.retainUntil(ofFeedback: "f1", in: b.timeline, at: t("2025-09-03T00:00:00Z"))
        #expect(f.retainUntil == t("2030-09-02T00:01:00Z"))
        #expect(f.rule == .feedback)
        b.deleteConversation("2025-09-10T00:00:00Z")
        let cut = try b.engine.retainUntil(ofFeedback: "f1", in: b.timeline, at: t("2025-09-10T00:00:00Z"))
        #expect(cut.retainUntil == t("2025-10-10T00:00:00Z"))
    }

    @Test("a new policy version changes the retention of data already stored")
    func newVersionAppliesToPast() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.activity("2025-09-02T00:00:00Z")
        let doc = try PolicyDocument(json: #"{"version":"short","effectiveFrom":"2025-09-10T00:00:00Z","optOutRetention":"14d"}"#)
        b.policies = try b.policies.applying(doc, horizon: nil).0
        #expect(try b.retainUntil(at: "2025-09-09T00:00:00Z").retainUntil == t("2025-10-02T00:00:00Z"))
        #expect(try b.retainUntil(at: "2025-09-10T00:00:00Z").retainUntil == t("2025-09-16T00:00:00Z"))
    }
}
