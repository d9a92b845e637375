/// Why a conversation or feedback may or may not enter a training run (SPEC §4).
public enum EligibilityReason: String, CaseIterable, Hashable, Sendable {
    case eligible
    case accountDeleted = "account_deleted"
    case conversationDeleted = "conversation_deleted"
    case commercialTerms = "commercial_terms"
    case incognito
    case noChoice = "no_choice"
    case optedOut = "opted_out"
    case retentionExpired = "retention_expired"
    case notResumedSinceOptIn = "not_resumed_since_opt_in"

    /// The rule of SPEC §4's table: `E1` … `E8`, `—` for eligible.
    public var rule: String {
        switch self {
        case .accountDeleted: return "E1"
        case .conversationDeleted: return "E2"
        case .commercialTerms: return "E3"
        case .incognito: return "E4"
        case .noChoice: return "E5"
        case .optedOut: return "E6"
        case .retentionExpired: return "E7"
        case .notResumedSinceOptIn: return "E8"
        case .eligible: return "—"
        }
    }
}

/// Which step of SPEC §5 set a retention date.
public enum RetentionRule: String, Hashable, Sendable {
    /// Step 1: opted in at the last activity: `optInRetention`.
    case optIn
    /// Step 1: a commercial plan at the last activity: `commercialRetention`.
    case commercial
    /// Step 1: otherwise: `optOutRetention`.
    case optOut
    /// Feedback under a consumer plan: `feedbackRetention`.
    case feedback
    /// Step 2: an `off` choice after the last activity shortened opt-in retention.
    case optOutShortened
    /// Step 3: deletion of the conversation or the account.
    case deletion
}

/// How long a conversation or feedback is kept, as known at an instant (SPEC §5).
public struct RetentionDecision: Hashable, Sendable {
    public var retainUntil: Instant
    /// The step that set `retainUntil`.
    public var rule: RetentionRule
    /// The entries the date was computed from (the last activity or submission, and any
    /// choice or deletion that cut it).
    public var evidence: EvidenceList
}

/// May this conversation or feedback enter a training run at `at`, and why (SPEC §4).
public struct EligibilityDecision: Hashable, Sendable {
    public var at: Instant
    public var reason: EligibilityReason
    public var retention: RetentionDecision
    /// The entries that decided it.
    public var evidence: EvidenceList
    /// For an eligible conversation, the exchanges that enter a run (SPEC §4, `resumedScope`);
    /// empty otherwise and for feedback.
    public var exchanges: [Evidence]
    /// The policy version the rules read.
    public var policyVersion: String

    public var eligible: Bool { reason == .eligible }
    public var retainUntil: Instant { retention.retainUntil }
    public var rule: String { reason.rule }
}

/// The rules of SPEC §3–§5 over account timelines, under a policy history.
///
/// Pure: every question takes its instant; the policy in force at that instant is the one read,
/// also for the durations it applies to past instants (SPEC §2).
///
/// ```swift
/// let engine = PolicyEngine(policies: PolicyHistory())
/// let decision = try engine.eligibility(of: "c1", in: timeline, at: t)
/// decision.reason // .optedOut
/// ```
public struct PolicyEngine: Sendable {
    public let policies: PolicyHistory

    public init(policies: PolicyHistory = PolicyHistory()) {
        self.policies = policies
    }

    // MARK: Prompt (SPEC §3)

    /// What the account must be asked at `instant`.
    /// - Throws: `unknown_account` before it exists; `account_deleted` after its deletion (P1).
    public func prompt(_ account: AccountTimeline, at instant: Instant) throws(AssentError) -> PromptDecision {
        try account.promptDecision(bound: .endOf(instant), policy: policies.policy(at: instant))
    }

    // MARK: Retention (SPEC §5)

    /// The retention that new activity of the account would get at `instant`: step 1 of SPEC §5
    /// for a non-incognito conversation, under the plan and choice in force then.
    /// - Throws: `unknown_account` before the account exists.
    public func retentionInForce(for account: AccountTimeline, at instant: Instant) throws(AssentError) -> (
        period: RetentionPeriod, rule: RetentionRule
    ) {
        let bound = Stamp.endOf(instant)
        guard let plan = account.plan(at: bound) else {
            throw .unknownAccount("account \(account.account) does not exist at \(instant)")
        }
        let policy = policies.policy(at: instant)
        if policy.isCommercial(plan.plan) { return (policy.commercialRetention, .commercial) }
        if account.choice(at: bound)?.value == .on { return (policy.optInRetention, .optIn) }
        return (policy.optOutRetention, .optOut)
    }

    /// How long the conversation is kept, as known at `instant`.
    /// - Throws: `unknown_conversation` when it has no activity at or before `instant`.
    public func retainUntil(of id: ConversationID, in account: AccountTimeline, at instant: Instant) throws(AssentError)
        -> RetentionDecision
    {
        let conversation = try self.conversation(id, in: account, at: instant)
        return conversationRetention(conversation, in: account, bound: .endOf(instant), policy: policies.policy(at: instant))!
    }

    /// How long the feedback is kept, as known at `instant`.
    /// - Throws: `unknown_feedback` when it was not submitted at or before `instant`.
    public func retainUntil(ofFeedback id: FeedbackID, in account: AccountTimeline, at instant: Instant) throws(AssentError)
        -> RetentionDecision
    {
        let (conversation, feedback) = try self.feedback(id, in: account, at: instant)
        return feedbackRetention(feedback, of: conversation, in: account, bound: .endOf(instant), policy: policies.policy(at: instant))
    }

    func conversationRetention(_ c: ConversationTimeline, in account: AccountTimeline, bound: Stamp, policy: Policy) -> RetentionDecision? {
        guard let lastIndex = AccountTimeline.lastIndex(in: c.activities, notAfter: bound, stamp: \.stamp) else { return nil }
        let last = c.activities[lastIndex]
        let plan = account.plan(at: last.stamp)!
        var decision: RetentionDecision
        let choiceAtLast = account.choice(at: last.stamp)
        if !c.incognito, !policy.isCommercial(plan.plan), let choice = choiceAtLast, choice.value == .on {
            decision = RetentionDecision(
                retainUntil: policy.optInRetention.added(to: last.at), rule: .optIn, evidence: EvidenceList(last, choice.evidence))
            if policy.optOutShortensRetention,
                let off = account.choices.first(where: { $0.value == .off && last.stamp < $0.evidence.stamp && $0.evidence.stamp <= bound })
            {
                let shortened = policy.optOutRetention.added(to: off.evidence.at)
                if shortened < decision.retainUntil {
                    decision = RetentionDecision(retainUntil: shortened, rule: .optOutShortened, evidence: EvidenceList(last, off.evidence))
                }
            }
        } else if policy.isCommercial(plan.plan) {
            decision = RetentionDecision(
                retainUntil: policy.commercialRetention.added(to: last.at), rule: .commercial, evidence: EvidenceList(last, plan.evidence))
        } else {
            decision = RetentionDecision(
                retainUntil: policy.optOutRetention.added(to: last.at), rule: .optOut, evidence: EvidenceList(last))
        }
        cutByDeletion(&decision, conversation: c, in: account, bound: bound, policy: policy)
        return decision
    }

    func feedbackRetention(_ f: FeedbackRecord, of c: ConversationTimeline, in account: AccountTimeline, bound: Stamp, policy: Policy)
        -> RetentionDecision
    {
        let plan = account.plan(at: f.submitted.stamp)!
        var decision: RetentionDecision
        if policy.isCommercial(plan.plan) {
            decision = RetentionDecision(
                retainUntil: policy.commercialRetention.added(to: f.submitted.at), rule: .commercial,
                evidence: EvidenceList(f.submitted, plan.evidence))
        } else if c.incognito {
            decision = RetentionDecision(
                retainUntil: policy.optOutRetention.added(to: f.submitted.at), rule: .optOut, evidence: [f.submitted, c.activities[0]])
        } else {
            decision = RetentionDecision(
                retainUntil: policy.feedbackRetention.added(to: f.submitted.at), rule: .feedback, evidence: EvidenceList(f.submitted))
        }
        cutByDeletion(&decision, conversation: c, in: account, bound: bound, policy: policy)
        return decision
    }

    /// Step 3: deletion of the conversation or the account at D ≤ bound caps at D + deletedRetention.
    private func cutByDeletion(
        _ decision: inout RetentionDecision, conversation c: ConversationTimeline, in account: AccountTimeline, bound: Stamp, policy: Policy
    ) {
        var earliest: Evidence?
        if let d = c.deletion, d.stamp <= bound { earliest = d }
        if let d = account.deletion(notAfter: bound), earliest.map({ d.stamp < $0.stamp }) ?? true { earliest = d }
        guard let earliest else { return }
        let cap = policy.deletedRetention.added(to: earliest.at)
        if cap < decision.retainUntil {
            decision = RetentionDecision(
                retainUntil: cap, rule: .deletion,
                evidence: {
                    var e = decision.evidence
                    e.append(earliest)
                    return e
                }())
        }
    }

    // MARK: Eligibility (SPEC §4)

    /// May the conversation enter a training run created at `instant`, and why.
    /// - Throws: `unknown_conversation` when it has no activity at or before `instant`.
    public func eligibility(of id: ConversationID, in account: AccountTimeline, at instant: Instant) throws(AssentError)
        -> EligibilityDecision
    {
        let conversation = try self.conversation(id, in: account, at: instant)
        return eligibility(of: conversation, in: account, at: instant)
    }

    /// Eligibility of a conversation known to have activity at or before `instant` (see
    /// ``AccountTimeline/conversations``); the fast path for runs over many conversations.
    public func eligibility(of c: ConversationTimeline, in account: AccountTimeline, at instant: Instant) -> EligibilityDecision {
        eligibility(of: c, in: account, at: instant, policy: policies.policy(at: instant))
    }

    func eligibility(of c: ConversationTimeline, in account: AccountTimeline, at instant: Instant, policy: Policy) -> EligibilityDecision {
        let bound = Stamp.endOf(instant)
        guard let retention = conversationRetention(c, in: account, bound: bound, policy: policy) else {
            preconditionFailure("conversation \(c.id) has no activity at or before \(instant)")
        }
        func decide(_ reason: EligibilityReason, _ evidence: EvidenceList, exchanges: [Evidence] = []) -> EligibilityDecision {
            EligibilityDecision(
                at: instant, reason: reason, retention: retention, evidence: evidence, exchanges: exchanges, policyVersion: policy.version)
        }
        if let deleted = account.deletion(notAfter: bound) { return decide(.accountDeleted, EvidenceList(deleted)) }
        if let deleted = c.deletion, deleted.stamp <= bound { return decide(.conversationDeleted, EvidenceList(deleted)) }
        let plan = account.plan(at: bound)!
        if policy.isCommercial(plan.plan) { return decide(.commercialTerms, EvidenceList(plan.evidence)) }
        if c.incognito { return decide(.incognito, EvidenceList(c.activities[0])) }
        guard let choice = account.choice(at: bound) else { return decide(.noChoice, EvidenceList(account.creation!)) }
        if choice.value == .off { return decide(.optedOut, EvidenceList(choice.evidence)) }
        if instant >= retention.retainUntil { return decide(.retentionExpired, retention.evidence) }

        // Qualifying activity: opted in at its instant, on or after the rollout.
        var firstQualifying: Int?
        var lastQualifying: Int?
        var k = 0
        while k < c.activities.count, c.activities[k].stamp <= bound {
            let activity = c.activities[k]
            if activity.at >= policy.rolloutStart, account.isOptedIn(at: activity.stamp, policy: policy) {
                if firstQualifying == nil { firstQualifying = k }
                lastQualifying = k
            }
            k += 1
        }
        guard let first = firstQualifying, let last = lastQualifying else {
            let lastActivity = c.activities[k - 1]
            var evidence = EvidenceList(lastActivity)
            if let choiceThen = account.choice(at: lastActivity.stamp) { evidence.append(choiceThen.evidence) }
            return decide(.notResumedSinceOptIn, evidence)
        }

        // What enters: consumer-plan exchanges up to the last qualifying one, from the first
        // exchange (whole) or the first qualifying one (sinceResume), none a sweep purged.
        let start = policy.resumedScope == .whole ? 0 : first
        var exchanges: [Evidence] = []
        let anyPurge = !c.purges.isEmpty
        for index in start...last {
            let exchange = c.activities[index]
            if anyPurge, c.isPurged(exchange, asOf: bound) { continue }
            if policy.isCommercial(account.plan(at: exchange.stamp)!.plan) { continue }
            exchanges.append(exchange)
        }
        if exchanges.isEmpty, let purge = c.purges.last(where: { $0.stamp <= bound }) {
            return decide(.retentionExpired, EvidenceList(purge))
        }
        var evidence = EvidenceList(c.activities[first])
        if last != first { evidence.append(c.activities[last]) }
        evidence.append(choice.evidence)
        return decide(.eligible, evidence, exchanges: exchanges)
    }

    /// May the feedback enter a training run created at `instant`, and why: its conversation's
    /// rules, with its own retention, and with E5, E6 and E8 waived under
    /// `feedbackTrainingUse: always` (SPEC §4).
    /// - Throws: `unknown_feedback` when it was not submitted at or before `instant`.
    public func eligibility(ofFeedback id: FeedbackID, in account: AccountTimeline, at instant: Instant) throws(AssentError)
        -> EligibilityDecision
    {
        let (conversation, feedback) = try self.feedback(id, in: account, at: instant)
        return eligibility(ofFeedback: feedback, of: conversation, in: account, at: instant)
    }

    /// Eligibility of feedback known to be submitted at or before `instant`.
    public func eligibility(ofFeedback f: FeedbackRecord, of c: ConversationTimeline, in account: AccountTimeline, at instant: Instant)
        -> EligibilityDecision
    {
        eligibility(ofFeedback: f, of: c, in: account, at: instant, policy: policies.policy(at: instant))
    }

    func eligibility(
        ofFeedback f: FeedbackRecord, of c: ConversationTimeline, in account: AccountTimeline, at instant: Instant, policy: Policy
    ) -> EligibilityDecision {
        let bound = Stamp.endOf(instant)
        let retention = feedbackRetention(f, of: c, in: account, bound: bound, policy: policy)
        func decide(_ reason: EligibilityReason, _ evidence: EvidenceList) -> EligibilityDecision {
            EligibilityDecision(
                at: instant, reason: reason, retention: retention, evidence: evidence, exchanges: [], policyVersion: policy.version)
        }
        if let deleted = account.deletion(notAfter: bound) { return decide(.accountDeleted, EvidenceList(deleted)) }
        if let deleted = c.deletion, deleted.stamp <= bound { return decide(.conversationDeleted, EvidenceList(deleted)) }
        let plan = account.plan(at: bound)!
        if policy.isCommercial(plan.plan) { return decide(.commercialTerms, EvidenceList(plan.evidence)) }
        let planThen = account.plan(at: f.submitted.stamp)!
        if policy.isCommercial(planThen.plan) { return decide(.commercialTerms, EvidenceList(f.submitted, planThen.evidence)) }
        if c.incognito { return decide(.incognito, EvidenceList(c.activities[0])) }
        let waived = policy.feedbackTrainingUse == .always
        let choice = account.choice(at: bound)
        if !waived {
            guard let choice else { return decide(.noChoice, EvidenceList(account.creation!)) }
            if choice.value == .off { return decide(.optedOut, EvidenceList(choice.evidence)) }
        }
        if instant >= retention.retainUntil { return decide(.retentionExpired, retention.evidence) }
        if let purge = f.purge, purge.stamp <= bound { return decide(.retentionExpired, EvidenceList(purge)) }
        if waived { return decide(.eligible, EvidenceList(f.submitted)) }
        let qualifying = c.activities.last {
            $0.stamp <= bound && $0.at >= policy.rolloutStart && account.isOptedIn(at: $0.stamp, policy: policy)
        }
        guard let qualifying else {
            let lastActivity = c.activities.last { $0.stamp <= bound } ?? c.activities[0]
            return decide(.notResumedSinceOptIn, EvidenceList(lastActivity))
        }
        return decide(.eligible, [f.submitted, qualifying, choice!.evidence])
    }

    // MARK: Many questions at one instant

    /// The rules at one instant, with the policy in force resolved once: the form a run over
    /// millions of conversations uses.
    public func rules(at instant: Instant) -> RulesAtInstant {
        RulesAtInstant(engine: self, at: instant, policy: policies.policy(at: instant))
    }

    // MARK: Lookups

    private func conversation(_ id: ConversationID, in account: AccountTimeline, at instant: Instant) throws(AssentError)
        -> ConversationTimeline
    {
        guard let c = account.conversation(id), c.activities[0].at <= instant else {
            throw .unknownConversation("conversation \(id) does not exist at \(instant)")
        }
        return c
    }

    private func feedback(_ id: FeedbackID, in account: AccountTimeline, at instant: Instant) throws(AssentError) -> (
        ConversationTimeline, FeedbackRecord
    ) {
        guard let cid = account.feedbackConversation[id], let c = account.conversation(cid),
            let f = c.feedback.first(where: { $0.id == id }), f.submitted.at <= instant
        else {
            throw .unknownFeedback("feedback \(id) does not exist at \(instant)")
        }
        return (c, f)
    }
}

/// ``PolicyEngine``'s questions at one fixed instant, with the policy in force at it.
public struct RulesAtInstant: Sendable {
    let engine: PolicyEngine
    public let at: Instant
    public let policy: Policy

    /// Eligibility of a conversation with activity at or before ``at``.
    public func eligibility(of conversation: ConversationTimeline, in account: AccountTimeline) -> EligibilityDecision {
        engine.eligibility(of: conversation, in: account, at: at, policy: policy)
    }

    /// Eligibility of feedback submitted at or before ``at``.
    public func eligibility(ofFeedback feedback: FeedbackRecord, of conversation: ConversationTimeline, in account: AccountTimeline)
        -> EligibilityDecision
    {
        engine.eligibility(ofFeedback: feedback, of: conversation, in: account, at: at, policy: policy)
    }
}
