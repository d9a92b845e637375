import AssentCore
import Testing

/// SPEC §4, one test per rule, in order, plus the boundaries and what enters a run.
@Suite("Eligibility (SPEC §4)")
struct EligibilityTests {
    /// An opted-in free user with a chat resumed after opting in: eligible. Each test breaks it one way.
    static func optedInWithChat() -> TimelineBuilder {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.activity("2025-08-01T00:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        b.activity("2025-09-02T00:00:00Z")
        return b
    }

    @Test("eligible: opted in and resumed since; evidence names the qualifying activity and the choice")
    func eligible() throws {
        let b = Self.optedInWithChat()
        let d = try b.eligibility(at: "2025-10-01T00:00:00Z")
        #expect(d.eligible)
        #expect(d.reason == .eligible)
        #expect(d.evidence.map(\.type) == [.conversationActivity, .trainingChoice])
        #expect(d.retainUntil == t("2030-09-02T00:00:00Z"))
        // whole scope: the exchange from before the opt-in enters too
        #expect(d.exchanges.map(\.at) == [t("2025-08-01T00:00:00Z"), t("2025-09-02T00:00:00Z")])
    }

    @Test("E1 account_deleted, from the instant of the deletion on")
    func e1AccountDeleted() throws {
        var b = Self.optedInWithChat()
        b.deleteAccount("2025-09-10T00:00:00Z")
        #expect(try b.eligibility(at: "2025-09-09T23:59:59Z").eligible)
        let d = try b.eligibility(at: "2025-09-10T00:00:00Z")
        #expect(d.reason == .accountDeleted)
        #expect(d.rule == "E1")
        #expect(d.evidence.map(\.type) == [.accountDeleted])
    }

    @Test("E2 conversation_deleted, from the instant of the deletion on")
    func e2ConversationDeleted() throws {
        var b = Self.optedInWithChat()
        b.deleteConversation("2025-09-10T00:00:00Z")
        #expect(try b.eligibility(at: "2025-09-09T23:59:59Z").eligible)
        let d = try b.eligibility(at: "2025-09-10T00:00:00Z")
        #expect(d.reason == .conversationDeleted)
        #expect(d.rule == "E2")
    }

    @Test("E1 comes before E2")
    func e1BeforeE2() throws {
        var b = Self.optedInWithChat()
        b.deleteConversation("2025-09-10T00:00:00Z")
        b.deleteAccount("2025-09-11T00:00:00Z")
        #expect(try b.eligibility(at: "2025-09-12T00:00:00Z").reason == .accountDeleted)
    }

    @Test("E3 commercial_terms: the plan at T is commercial")
    func e3Commercial() throws {
        var b = Self.optedInWithChat()
        b.plan("2025-09-10T00:00:00Z", "team")
        let d = try b.eligibility(at: "2025-09-10T00:00:00Z")
        #expect(d.reason == .commercialTerms)
        #expect(d.evidence.map(\.type) == [.planChanged])
        // Back to a consumer plan: eligible again, but only with the consumer exchanges.
        b.activity("2025-09-11T00:00:00Z")  // made under team: never enters
        b.plan("2025-09-12T00:00:00Z", "pro")
        let back = try b.eligibility(at: "2025-09-13T00:00:00Z")
        #expect(back.eligible)
        #expect(back.exchanges.map(\.at) == [t("2025-08-01T00:00:00Z"), t("2025-09-02T00:00:00Z")])
    }

    @Test("E4 incognito")
    func e4Incognito() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        b.activity("2025-09-02T00:00:00Z", "c9", incognito: true)
        let d = try b.eligibility("c9", at: "2025-10-01T00:00:00Z")
        #expect(d.reason == .incognito)
        #expect(d.rule == "E4")
        #expect(d.retainUntil == t("2025-10-02T00:00:00Z"))  // incognito keeps the 30-day retention
    }

    @Test("E5 no_choice")
    func e5NoChoice() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.activity("2025-09-02T00:00:00Z")
        let d = try b.eligibility(at: "2025-09-03T00:00:00Z")
        #expect(d.reason == .noChoice)
        #expect(d.rule == "E5")
    }

    @Test("E6 opted_out: the latest choice at T is off")
    func e6OptedOut() throws {
        var b = Self.optedInWithChat()
        b.choice("2025-09-20T00:00:00Z", .off)
        let d = try b.eligibility(at: "2025-09-20T00:00:00Z")
        #expect(d.reason == .optedOut)
        #expect(d.rule == "E6")
        #expect(d.evidence.map(\.seq) == [6])
        // An earlier run instant still sees the opt-in.
        #expect(try b.eligibility(at: "2025-09-19T00:00:00Z").eligible)
    }

    @Test("E7 retention_expired: exactly at retainUntil the conversation is out")
    func e7RetentionExpired() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        b.activity("2025-09-02T00:00:00Z")
        #expect(try b.eligibility(at: "2030-09-01T23:59:59Z").eligible)
        let d = try b.eligibility(at: "2030-09-02T00:00:00Z")
        #expect(d.reason == .retentionExpired)
        #expect(d.rule == "E7")
    }

    @Test("E8 not_resumed_since_opt_in: activity only before the opt-in")
    func e8NotResumed() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.activity("2025-08-30T00:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        let d = try b.eligibility(at: "2025-09-05T00:00:00Z")
        #expect(d.reason == .notResumedSinceOptIn)
        #expect(d.rule == "E8")
        // Previous chats without additional activity keep the old 30-day retention.
        #expect(d.retainUntil == t("2025-09-29T00:00:00Z"))
    }

    @Test("E8: activity while opted out, then opting in without resuming, is not qualifying")
    func e8OffThenOn() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .off)
        b.activity("2025-09-02T00:00:00Z")
        b.choice("2025-09-03T00:00:00Z", .on)
        #expect(try b.eligibility(at: "2025-09-04T00:00:00Z").reason == .notResumedSinceOptIn)
        b.activity("2025-09-05T00:00:00Z")
        #expect(try b.eligibility(at: "2025-09-05T00:00:00Z").eligible)
    }

    @Test("an exchange at the same instant as a later choice is made under the earlier choice")
    func sameInstantOrderedBySeq() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.accepted("2025-09-01T00:00:00Z")
        b.activity("2025-09-01T00:00:00Z")  // before the choice in ledger order
        b.choice("2025-09-01T00:00:00Z", .on)
        #expect(try b.eligibility(at: "2025-09-02T00:00:00Z").reason == .notResumedSinceOptIn)
    }

    @Test("explain before the first activity is unknown_conversation")
    func unknownConversation() {
        let b = Self.optedInWithChat()
        #expect(thrownError { try b.eligibility(at: "2025-07-31T23:59:59Z") }?.code == .unknownConversation)
        #expect(thrownError { try b.eligibility("nope", at: "2025-10-01T00:00:00Z") }?.code == .unknownConversation)
    }

    @Test("resumedScope sinceResume: only exchanges from the first qualifying activity on")
    func sinceResume() throws {
        var b = Self.optedInWithChat()
        let doc = try PolicyDocument(json: #"{"version":"since","effectiveFrom":"2025-09-15T00:00:00Z","resumedScope":"sinceResume"}"#)
        b.policies = try b.policies.applying(doc, horizon: nil).0
        b.activity("2025-09-16T00:00:00Z")
        b.choice("2025-09-17T00:00:00Z", .off)
        b.activity("2025-09-18T00:00:00Z")  // made while off
        b.choice("2025-09-19T00:00:00Z", .on)
        b.activity("2025-09-20T00:00:00Z")
        b.activity("2025-09-21T00:00:00Z")
        b.choice("2025-09-22T00:00:00Z", .off)
        b.activity("2025-09-23T00:00:00Z")  // after the last qualifying: never enters
        b.choice("2025-09-24T00:00:00Z", .on)
        let d = try b.eligibility(at: "2025-09-24T00:00:00Z")
        #expect(d.eligible)
        #expect(
            d.exchanges.map(\.at) == ["2025-09-02", "2025-09-16", "2025-09-18", "2025-09-20", "2025-09-21"].map { t($0 + "T00:00:00Z") })
        // Under the default (whole) before the new version, the pre-opt-in exchange entered too.
        #expect(try b.eligibility(at: "2025-09-14T00:00:00Z").exchanges.count == 2)
    }

    @Test("a sweep's purge keeps purged exchanges out; new activity brings only new ones")
    func purgedExchanges() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        b.activity("2025-09-02T00:00:00Z")
        b.choice("2025-09-03T00:00:00Z", .off)
        b.must("2025-10-03T00:00:00Z", .contentPurged(conversation: "c1", feedback: nil))
        b.choice("2025-10-04T00:00:00Z", .on)
        // A later version with a longer opt-out retention cannot bring purged content back.
        let doc = try PolicyDocument(json: #"{"version":"long","effectiveFrom":"2025-10-05T00:00:00Z","optOutRetention":"90d"}"#)
        b.policies = try b.policies.applying(doc, horizon: nil).0
        let d = try b.eligibility(at: "2025-10-06T00:00:00Z")
        #expect(d.reason == .retentionExpired)
        #expect(d.evidence.map(\.type) == [.contentPurged])
        b.activity("2025-10-07T00:00:00Z")
        let resumed = try b.eligibility(at: "2025-10-08T00:00:00Z")
        #expect(resumed.eligible)
        #expect(resumed.exchanges.map(\.at) == [t("2025-10-07T00:00:00Z")])
    }

    @Test("a plan not listed by the policy in force is never trained on")
    func unlistedPlanIsNotConsumer() throws {
        var b = Self.optedInWithChat()
        b.plan("2025-09-05T00:00:00Z", "max")
        let doc = try PolicyDocument(json: #"{"version":"nomax","effectiveFrom":"2025-09-06T00:00:00Z","consumerPlans":["free","pro"]}"#)
        b.policies = try b.policies.applying(doc, horizon: nil).0
        #expect(try b.eligibility(at: "2025-09-06T00:00:00Z").reason == .commercialTerms)
    }
}

/// Feedback: the conversation's rules with its own retention (SPEC §4, §5).
@Suite("Feedback eligibility (SPEC §4)")
struct FeedbackEligibilityTests {
    @Test("feedback follows its conversation's choice by default")
    func followsChoice() throws {
        var b = EligibilityTests.optedInWithChat()
        b.feedback("2025-09-02T00:00:01Z")
        #expect(try b.feedbackEligibility(at: "2025-09-03T00:00:00Z").eligible)
        b.choice("2025-09-04T00:00:00Z", .off)
        #expect(try b.feedbackEligibility(at: "2025-09-04T00:00:00Z").reason == .optedOut)
    }

    @Test("feedbackTrainingUse always waives E5, E6 and E8 but not deletion or commercial")
    func always() throws {
        var b = TimelineBuilder()
        let doc = try PolicyDocument(json: #"{"version":"fb","effectiveFrom":"2025-01-01T00:00:00Z","feedbackTrainingUse":"always"}"#)
        b.policies = try b.policies.applying(doc, horizon: nil).0
        b.created("2025-07-01T10:00:00Z")
        b.activity("2025-07-02T00:00:00Z")
        b.feedback("2025-07-02T00:00:01Z")  // no choice at all
        let d = try b.feedbackEligibility(at: "2025-09-01T00:00:00Z")
        #expect(d.eligible)
        #expect(d.retainUntil == t("2030-07-02T00:00:01Z"))
        // The conversation itself is not eligible.
        #expect(try b.eligibility(at: "2025-09-01T00:00:00Z").reason == .noChoice)
        b.acceptAndChoose("2025-09-02T00:00:00Z", .off)
        #expect(try b.feedbackEligibility(at: "2025-09-03T00:00:00Z").eligible)
        b.deleteConversation("2025-09-04T00:00:00Z")
        #expect(try b.feedbackEligibility(at: "2025-09-04T00:00:00Z").reason == .conversationDeleted)
    }

    @Test("feedback submitted under a commercial plan never enters, even after a move to consumer")
    func commercialFeedback() throws {
        var b = TimelineBuilder()
        let doc = try PolicyDocument(json: #"{"version":"fb","effectiveFrom":"2025-01-01T00:00:00Z","feedbackTrainingUse":"always"}"#)
        b.policies = try b.policies.applying(doc, horizon: nil).0
        b.created("2025-07-01T10:00:00Z", plan: "team")
        b.activity("2025-09-02T00:00:00Z")
        b.feedback("2025-09-02T00:00:01Z")
        b.plan("2025-09-03T00:00:00Z", "pro")
        let d = try b.feedbackEligibility(at: "2025-09-04T00:00:00Z")
        #expect(d.reason == .commercialTerms)
        #expect(d.retainUntil == t("2025-10-02T00:00:01Z"))
    }

    @Test("feedback E7 uses the feedback's own five-year retention, not the conversation's")
    func ownRetention() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        b.activity("2025-09-02T00:00:00Z")
        b.feedback("2026-01-01T00:00:00Z")
        #expect(try b.retainUntil(at: "2026-01-01T00:00:00Z").retainUntil == t("2030-09-02T00:00:00Z"))
        #expect(try b.feedbackEligibility(at: "2030-09-02T00:00:00Z").eligible)
        #expect(try b.feedbackEligibility(at: "2031-01-01T00:00:00Z").reason == .retentionExpired)
    }

    @Test("feedback E8: its conversation needs a qualifying activity")
    func e8() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.activity("2025-08-01T00:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        b.feedback("2025-09-02T00:00:00Z")
        #expect(try b.feedbackEligibility(at: "2025-09-03T00:00:00Z").reason == .notResumedSinceOptIn)
    }

    @Test("feedback in an incognito conversation is E4 and kept 30 days")
    func incognito() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        b.activity("2025-09-02T00:00:00Z", incognito: true)
        b.feedback("2025-09-02T00:00:01Z")
        let d = try b.feedbackEligibility(at: "2025-09-03T00:00:00Z")
        #expect(d.reason == .incognito)
        #expect(d.retainUntil == t("2025-10-02T00:00:01Z"))
    }

    @Test("unknown feedback, or before its submission, is unknown_feedback")
    func unknown() {
        var b = EligibilityTests.optedInWithChat()
        b.feedback("2025-09-03T00:00:00Z")
        #expect(thrownError { try b.feedbackEligibility(at: "2025-09-02T00:00:00Z") }?.code == .unknownFeedback)
        #expect(thrownError { try b.feedbackEligibility("f9", at: "2025-09-04T00:00:00Z") }?.code == .unknownFeedback)
    }
}
