/// What a product must show an account (SPEC §3).
public enum PromptKind: String, CaseIterable, Hashable, Sendable {
    /// Nothing to ask.
    case none
    /// The signup choice of a new user.
    case signup
    /// The notice, with "Not now" until the deadline.
    case notice
    /// The required form after the deadline: use is blocked until a choice is made.
    case required
}

/// The prompt state of an account at an instant, with the row of SPEC §3 that decided it.
public struct PromptDecision: Hashable, Sendable {
    public var account: AccountID
    public var at: Instant
    public var prompt: PromptKind
    /// Whether the user may use the product now.
    public var canUse: Bool
    /// Whether "Not now" is offered.
    public var deferrable: Bool
    /// `P2` … `P7`.
    public var rule: String
    /// The entries that decided it.
    public var evidence: EvidenceList
    /// The policy version in force at `at`.
    public var policyVersion: String
    /// The terms version the user must accept.
    public var termsVersion: String
    /// The deadline in force.
    public var decisionDeadline: Instant
}

extension AccountTimeline {
    /// SPEC §3's table over the entries at or before `bound`, first matching row wins.
    /// - Throws: `unknown_account` before the account exists, `account_deleted` (P1).
    func promptDecision(bound: Stamp, policy: Policy) throws(AssentError) -> PromptDecision {
        guard let creation, creation.stamp <= bound else {
            throw .unknownAccount("account \(account) does not exist at \(bound.at)")
        }
        if let deleted = deletion(notAfter: bound) {
            throw .accountDeleted("account \(account) was deleted at \(deleted.at)")
        }
        func decision(_ prompt: PromptKind, _ canUse: Bool, _ deferrable: Bool, _ rule: String, _ evidence: EvidenceList) -> PromptDecision
        {
            PromptDecision(
                account: account, at: bound.at, prompt: prompt, canUse: canUse, deferrable: deferrable, rule: rule,
                evidence: evidence, policyVersion: policy.version, termsVersion: policy.termsVersion,
                decisionDeadline: policy.decisionDeadline)
        }
        let plan = self.plan(at: bound)!
        if policy.isCommercial(plan.plan) {
            return decision(.none, true, false, "P2", [plan.evidence])
        }
        if let accepted = acceptance(of: policy.termsVersion, notAfter: bound), let choice = choice(at: bound) {
            return decision(.none, true, false, "P3", [accepted, choice.evidence])
        }
        if bound.at < policy.rolloutStart {
            return decision(.none, true, false, "P4", [creation])
        }
        if creation.at >= policy.rolloutStart, acceptance(of: nil, notAfter: bound) == nil {
            return decision(.signup, false, false, "P5", [creation])
        }
        let lastDeferral = deferrals.last { $0.stamp <= bound }
        if bound.at < policy.decisionDeadline {
            return decision(.notice, true, true, "P6", EvidenceList([creation] + (lastDeferral.map { [$0] } ?? [])))
        }
        return decision(.required, false, false, "P7", EvidenceList([creation] + (lastDeferral.map { [$0] } ?? [])))
    }
}
