import AssentCore
import Testing

/// SPEC §3, one test per row, plus the boundaries.
@Suite("Prompt (SPEC §3)")
struct PromptTests {
    @Test("P1: a deleted account is an error account_deleted")
    func p1AccountDeleted() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.deleteAccount("2025-09-10T00:00:00Z")
        #expect(thrownError { try b.prompt(at: "2025-09-10T00:00:00Z") }?.code == .accountDeleted)
        #expect(thrownError { try b.prompt(at: "2026-01-01T00:00:00Z") }?.code == .accountDeleted)
        // Before the deletion the account is prompted as usual.
        #expect(try b.prompt(at: "2025-09-09T23:59:59Z").prompt == .notice)
    }

    @Test("P2: a commercial plan is never prompted and can use")
    func p2Commercial() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z", plan: "team")
        let decision = try b.prompt(at: "2025-10-01T00:00:00Z")
        #expect(decision.prompt == .none)
        #expect(decision.canUse)
        #expect(!decision.deferrable)
        #expect(decision.rule == "P2")
        #expect(decision.evidence.map(\.seq) == [1])
    }

    @Test("P2 follows the plan at T: a move to a consumer plan brings the prompt")
    func p2FollowsPlanAtT() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z", plan: "enterprise")
        b.plan("2025-09-05T00:00:00Z", "pro")
        #expect(try b.prompt(at: "2025-09-04T00:00:00Z").rule == "P2")
        #expect(try b.prompt(at: "2025-09-05T00:00:00Z").prompt == .notice)
    }

    @Test("P3: current terms accepted and a choice made: nothing to ask")
    func p3Decided() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .off)
        let decision = try b.prompt(at: "2025-12-01T00:00:00Z")
        #expect(decision.prompt == .none)
        #expect(decision.canUse)
        #expect(decision.rule == "P3")
        #expect(decision.evidence.map(\.type) == [.termsAccepted, .trainingChoice])
    }

    @Test("P3 needs the current terms version: a new version prompts again")
    func p3NewTermsVersion() throws {
        var b = TimelineBuilder()
        let doc = try PolicyDocument(
            json:
                #"{"version":"v2","effectiveFrom":"2026-01-01T00:00:00Z","termsVersion":"2026-01","rolloutStart":"2026-01-01T00:00:00Z","decisionDeadline":"2026-02-01T00:00:00Z"}"#
        )
        b.policies = try b.policies.applying(doc, horizon: nil).0
        b.created("2025-07-01T10:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        #expect(try b.prompt(at: "2025-12-31T23:59:59Z").rule == "P3")
        let after = try b.prompt(at: "2026-01-10T00:00:00Z")
        #expect(after.prompt == .notice)
        #expect(after.termsVersion == "2026-01")
        #expect(try b.prompt(at: "2026-02-01T00:00:00Z").prompt == .required)
        b.accepted("2026-02-02T00:00:00Z", version: "2026-01")
        #expect(try b.prompt(at: "2026-02-02T00:00:00Z").rule == "P3")
    }

    @Test("P4: before the rollout nothing is asked")
    func p4BeforeRollout() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        let decision = try b.prompt(at: "2025-08-27T23:59:59Z")
        #expect(decision.prompt == .none)
        #expect(decision.canUse)
        #expect(decision.rule == "P4")
    }

    @Test("P5: a new user (created at or after the rollout, no terms) gets the signup choice")
    func p5Signup() throws {
        var b = TimelineBuilder()
        b.created("2025-08-28T00:00:00Z")  // exactly at rolloutStart counts as new
        let decision = try b.prompt(at: "2025-08-28T00:00:00Z")
        #expect(decision.prompt == .signup)
        #expect(!decision.canUse)
        #expect(!decision.deferrable)
        #expect(decision.rule == "P5")
        // After the deadline, still signup (not required): the row order decides.
        #expect(try b.prompt(at: "2026-03-01T00:00:00Z").prompt == .signup)
    }

    @Test("P6: an existing user before the deadline sees the deferrable notice")
    func p6Notice() throws {
        var b = TimelineBuilder()
        b.created("2025-08-27T23:59:59Z")
        let decision = try b.prompt(at: "2025-08-28T00:00:00Z")
        #expect(decision.prompt == .notice)
        #expect(decision.canUse)
        #expect(decision.deferrable)
        #expect(decision.rule == "P6")
    }

    @Test("P6 still applies after a deferral; terms without a choice still prompt")
    func p6AfterDeferralAndTermsOnly() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.must("2025-09-01T00:00:00Z", .noticeDeferred)
        #expect(try b.prompt(at: "2025-09-02T00:00:00Z").prompt == .notice)
        b.accepted("2025-09-03T00:00:00Z")
        #expect(try b.prompt(at: "2025-09-03T00:00:00Z").prompt == .notice)
    }

    @Test("P7: after the deadline an undecided user must choose to continue")
    func p7Required() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        let decision = try b.prompt(at: "2025-09-28T00:00:00Z")  // exactly at the deadline
        #expect(decision.prompt == .required)
        #expect(!decision.canUse)
        #expect(!decision.deferrable)
        #expect(decision.rule == "P7")
        #expect(try b.prompt(at: "2025-09-27T23:59:59.999999Z").prompt == .notice)
    }

    @Test("a prompt before the account exists is unknown_account")
    func unknownAccount() {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        #expect(thrownError { try b.prompt(at: "2025-06-30T00:00:00Z") }?.code == .unknownAccount)
        #expect(
            thrownError { try PolicyEngine().prompt(AccountTimeline(account: "zz"), at: t("2025-09-01T00:00:00Z")) }?.code
                == .unknownAccount)
    }

    @Test("two events at one instant: both count for a prompt at that instant")
    func sameInstant() throws {
        var b = TimelineBuilder()
        b.created("2025-07-01T10:00:00Z")
        b.acceptAndChoose("2025-09-30T12:00:00Z", .on)
        #expect(try b.prompt(at: "2025-09-30T12:00:00Z").rule == "P3")
        #expect(try b.prompt(at: "2025-09-30T11:59:59Z").rule == "P7")
    }

    @Test("the deadline moved by a new policy version moves P6/P7")
    func movedDeadline() throws {
        var b = TimelineBuilder()
        let doc = try PolicyDocument(
            json: #"{"version":"moved","effectiveFrom":"2025-09-20T00:00:00Z","decisionDeadline":"2025-10-08T00:00:00Z"}"#)
        b.policies = try b.policies.applying(doc, horizon: nil).0
        b.created("2025-07-01T10:00:00Z")
        #expect(try b.prompt(at: "2025-10-01T00:00:00Z").prompt == .notice)
        #expect(try b.prompt(at: "2025-10-08T00:00:00Z").prompt == .required)
        // Before the new version took effect the old deadline did not yet apply either.
        #expect(try b.prompt(at: "2025-09-19T00:00:00Z").prompt == .notice)
    }
}
