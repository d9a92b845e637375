import AssentCore
import PropertyBased
import Testing

/// The policy what-if (issue 14): hand-computed cases and a property.
@Suite("Policy what-if")
struct WhatIfTests {
    static func candidate(_ json: String, over history: PolicyHistory = PolicyHistory()) -> (PolicyHistory, PolicyVersion) {
        try! history.applying(try! PolicyDocument(json: json), horizon: nil)
    }

    static func compare(
        _ builders: [TimelineBuilder], candidate json: String, at: String, runs: [(name: String, at: Instant)] = []
    ) -> PolicyWhatIf.Report {
        let current = builders[0].policies
        let (history, version) = candidate(json, over: current)
        var whatIf = PolicyWhatIf(current: current, candidate: history, at: t(at), runs: runs, candidateFrom: version.effectiveFrom)
        for b in builders { whatIf.add(b.timeline) }
        return whatIf.report
    }

    static func transition(_ from: String, _ to: String) -> PolicyWhatIf.Transition { .init(from: from, to: to) }

    @Test("the deadline moved later: an account that has not answered is asked by the notice again, not required")
    func deadlineMoved() {
        var waiting = TimelineBuilder(account: "waiting")
        waiting.created("2025-07-01T00:00:00Z")
        var answered = TimelineBuilder(account: "answered")
        answered.created("2025-07-01T00:00:00Z")
        answered.acceptAndChoose("2025-09-01T00:00:00Z", .off)
        let report = Self.compare(
            [waiting, answered],
            candidate: #"{"version":"later","effectiveFrom":"2025-09-20T00:00:00Z","decisionDeadline":"2025-10-08T00:00:00Z"}"#,
            at: "2025-10-01T00:00:00Z")
        #expect(report.accounts == 2)
        #expect(Array(report.prompts.keys) == [Self.transition("required", "notice")])
        #expect(report.prompts[Self.transition("required", "notice")]?.accounts == 1)
        #expect(report.prompts[Self.transition("required", "notice")]?.sample == ["waiting"])
        #expect(report.eligibility.isEmpty && report.keptLonger.isEmpty && report.purgedEarlier.isEmpty)
        // After both deadlines nothing differs.
        let later = Self.compare(
            [waiting, answered],
            candidate: #"{"version":"later","effectiveFrom":"2025-09-20T00:00:00Z","decisionDeadline":"2025-10-08T00:00:00Z"}"#,
            at: "2025-10-09T00:00:00Z")
        #expect(later.prompts.isEmpty)
    }

    @Test("opt-in retention shortened: stored content is purged earlier, and what is past it is no longer eligible")
    func retentionShortened() {
        var kept = TimelineBuilder(account: "a1")
        kept.created("2025-07-01T00:00:00Z")
        kept.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        kept.activity("2025-09-02T00:00:00Z", "c1")  // opted in: five years, to 2030-09-02
        kept.feedback("2025-09-02T00:01:00Z", "f1", conversation: "c1")  // feedback: five years whatever the choice
        var out = TimelineBuilder(account: "a2")
        out.created("2025-07-01T00:00:00Z")
        out.acceptAndChoose("2025-09-01T00:00:00Z", .off)
        out.activity("2025-09-20T00:00:00Z", "c2")  // opted out: 30 days
        let oneYear = Self.compare(
            [kept, out], candidate: #"{"version":"1y","effectiveFrom":"2025-10-01T00:00:00Z","optInRetention":"1y"}"#,
            at: "2025-10-02T00:00:00Z")
        #expect(oneYear.purgedEarlier.keys.sorted() == ["2026-09"], "2030-09-02 becomes 2026-09-02")
        #expect(oneYear.purgedEarlier["2026-09"]?.conversations == 1)
        #expect(oneYear.purgedEarlier["2026-09"]?.feedback == 0)
        #expect(oneYear.purgedEarlier["2026-09"]?.sample == ["a1"])
        #expect(oneYear.eligibility.isEmpty && oneYear.keptLonger.isEmpty && oneYear.prompts.isEmpty)
        // Twenty days: c1's retention (to 2025-09-22) has passed at T, so it is purged at the next
        // sweep (this month) and no longer eligible.
        let twentyDays = Self.compare(
            [kept, out], candidate: #"{"version":"20d","effectiveFrom":"2025-10-01T00:00:00Z","optInRetention":"20d"}"#,
            at: "2025-10-02T00:00:00Z")
        #expect(twentyDays.eligibility[Self.transition("eligible", "retention_expired")]?.conversations == 1)
        #expect(twentyDays.purgedEarlier["2025-10"]?.conversations == 1)
        // Lengthened: kept longer, counted in the month it would have gone.
        let tenYears = Self.compare(
            [kept, out], candidate: #"{"version":"10y","effectiveFrom":"2025-10-01T00:00:00Z","optOutRetention":"1y"}"#,
            at: "2025-10-02T00:00:00Z")
        #expect(tenYears.keptLonger.keys.sorted() == ["2025-10"], "c2: 2025-10-20 becomes 2026-09-20")
        #expect(tenYears.keptLonger["2025-10"]?.sample == ["a2"])
    }

    @Test("the rollout start moved later (a what-if of the past): new users, qualifying activity and an earlier run change")
    func rolloutMoved() {
        var newUser = TimelineBuilder(account: "new")
        newUser.created("2025-09-01T00:00:00Z")  // after the seed's rollout (08-28): a new user at signup
        var early = TimelineBuilder(account: "early")
        early.created("2025-07-01T00:00:00Z")
        early.acceptAndChoose("2025-08-30T00:00:00Z", .on)
        early.activity("2025-09-02T00:00:00Z", "c1")  // qualifying under the seed, not under a rollout on 09-05
        let report = Self.compare(
            [newUser, early],
            candidate: #"{"version":"late","effectiveFrom":"2025-08-01T00:00:00Z","rolloutStart":"2025-09-05T00:00:00Z"}"#,
            at: "2025-09-10T00:00:00Z", runs: [("r-before", t("2025-07-15T00:00:00Z")), ("r1", t("2025-09-03T00:00:00Z"))])
        #expect(report.prompts[Self.transition("signup", "notice")]?.sample == ["new"])
        #expect(report.eligibility[Self.transition("eligible", "not_resumed_since_opt_in")]?.conversations == 1)
        #expect(report.runs.map(\.name) == ["r-before", "r1"])
        #expect(report.runs[0].affected == false && report.runs[0].bucket.conversations == 0)
        #expect(report.runs[1].affected && report.runs[1].bucket.conversations == 1)
        #expect(report.runs[1].bucket.sample == ["early"])
    }

    @Test("a candidate taking effect after T changes nothing at T")
    func notYetInForce() {
        var b = TimelineBuilder(account: "a1")
        b.created("2025-07-01T00:00:00Z")
        let report = Self.compare(
            [b], candidate: #"{"version":"v2","effectiveFrom":"2025-12-01T00:00:00Z","decisionDeadline":"2025-12-31T00:00:00Z"}"#,
            at: "2025-10-01T00:00:00Z")
        #expect(report.prompts.isEmpty)
    }

    @Test("what-if of the policy in force (the same fields under a new name, from any instant) changes nothing")
    func samePolicyChangesNothing() async {
        await propertyCheck(count: 120, input: PropertyTests.steps, Gen.int(in: 0...3), Gen.int(in: 0...400)) { steps, variant, day in
            let b = PropertyTests.build(steps, policies: PropertyTests.policyVariants[variant])
            let from = t("2025-06-01T00:00:00Z").adding(seconds: Int64(day) * 86_400)
            let same = b.policies.policy(at: from)
            var document = try! PolicyDocument(json: #"{"version":"same-again","effectiveFrom":"\#(from.rfc3339)"}"#)
            document.optInRetention = same.optInRetention
            let (candidate, version) = try! b.policies.applying(document, horizon: nil)
            for instant in PropertyTests.sampleInstants(b.timeline) {
                var whatIf = PolicyWhatIf(
                    current: b.policies, candidate: candidate, at: instant, runs: [("r", instant)], candidateFrom: version.effectiveFrom)
                whatIf.add(b.timeline)
                let r = whatIf.report
                #expect(r.prompts.isEmpty && r.eligibility.isEmpty && r.keptLonger.isEmpty && r.purgedEarlier.isEmpty)
                #expect(r.runs.allSatisfy { $0.bucket.conversations == 0 && $0.bucket.feedback == 0 })
            }
        }
    }
}
