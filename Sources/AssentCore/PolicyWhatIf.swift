/// What a candidate policy version would change (issue 14's what-if), compared with the policy
/// history in force, account by account: prompts and eligibility at an instant, how long content
/// is kept, and what earlier runs would have held. It decides nothing itself — both sides are
/// the engine's answers — and writes nothing.
///
/// ```swift
/// var whatIf = PolicyWhatIf(current: history, candidate: candidateHistory, at: t, runs: [("r1", runAt)])
/// for timeline in timelines { whatIf.add(timeline) }
/// let report = whatIf.report
/// ```
public struct PolicyWhatIf: Sendable {
    /// Accounts named per bucket, the first in account order.
    public static let sampleSize = 5

    /// A count with the number of accounts it holds and a few of them.
    public struct Bucket: Hashable, Sendable {
        public var conversations = 0
        public var feedback = 0
        public var accounts = 0
        public var sample: [AccountID] = []
        /// The account counted last: an account's items come together, so each is counted once.
        private var last: AccountID?

        public init() {}

        mutating func note(_ account: AccountID) {
            guard last != account else { return }
            last = account
            accounts += 1
            if sample.count < PolicyWhatIf.sampleSize { sample.append(account) }
        }

        /// Counts one conversation or feedback of `account`.
        mutating func count(conversation: Bool, account: AccountID) {
            if conversation { conversations += 1 } else { feedback += 1 }
            note(account)
        }
    }

    /// A change from one answer to another, e.g. prompt `notice` → `required`.
    public struct Transition: Hashable, Sendable, Comparable {
        public var from: String
        public var to: String

        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }

        public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.from, lhs.to) < (rhs.from, rhs.to) }
    }

    /// A run and how many of its items would have differed.
    public struct RunDifference: Hashable, Sendable {
        public var name: String
        public var at: Instant
        public var bucket = Bucket()
        /// False when the candidate is in force only after the run's instant: it cannot change it.
        public var affected: Bool
    }

    public struct Report: Sendable {
        public var at: Instant
        public var accounts = 0
        public var conversations = 0
        public var feedback = 0
        /// Accounts whose prompt at `at` changes (an error such as `account_deleted` is an answer too).
        public var prompts: [Transition: Bucket] = [:]
        /// Conversations (and feedback) whose eligibility at `at` changes, by reason both ways.
        public var eligibility: [Transition: Bucket] = [:]
        /// Stored content kept longer, by the month it would have been purged in.
        public var keptLonger: [String: Bucket] = [:]
        /// Stored content purged earlier, by the month it would then be purged in (at the earliest
        /// the month of `at`: what is already due goes at the next sweep).
        public var purgedEarlier: [String: Bucket] = [:]
        public var runs: [RunDifference]
    }

    public let current: PolicyEngine
    public let candidate: PolicyEngine
    public let at: Instant
    private var state: Report
    private let currentRules: RulesAtInstant
    private let candidateRules: RulesAtInstant
    /// Per run: the rules of both sides at its instant, when the candidate can change it.
    private let runRules: [(current: RulesAtInstant, candidate: RulesAtInstant)?]

    /// - Parameters:
    ///   - current: the policy history in force.
    ///   - candidate: the same history with the candidate version applied.
    ///   - at: the instant prompts, eligibility and retention are compared at.
    ///   - runs: the runs to compare, by name and instant.
    ///   - candidateFrom: when the candidate takes effect: runs before it are not affected.
    public init(current: PolicyHistory, candidate: PolicyHistory, at: Instant, runs: [(name: String, at: Instant)], candidateFrom: Instant)
    {
        self.current = PolicyEngine(policies: current)
        self.candidate = PolicyEngine(policies: candidate)
        self.at = at
        currentRules = self.current.rules(at: at)
        candidateRules = self.candidate.rules(at: at)
        state = Report(
            at: at, runs: runs.map { RunDifference(name: $0.name, at: $0.at, affected: $0.at >= candidateFrom) })
        runRules = runs.map { run in
            run.at >= candidateFrom
                ? (PolicyEngine(policies: current).rules(at: run.at), PolicyEngine(policies: candidate).rules(at: run.at)) : nil
        }
    }

    public var report: Report { state }

    /// Compares one account. Accounts may come in any order; samples follow it.
    public mutating func add(_ timeline: AccountTimeline) {
        guard let creation = timeline.creation, creation.at <= at || runRules.contains(where: { $0 != nil }) else { return }
        let account = timeline.account
        if creation.at <= at {
            state.accounts += 1
            let before = Self.answer { () throws(AssentError) in try current.prompt(timeline, at: at).prompt.rawValue }
            let after = Self.answer { () throws(AssentError) in try candidate.prompt(timeline, at: at).prompt.rawValue }
            if before != after { state.prompts[Transition(from: before, to: after), default: Bucket()].note(account) }
        }
        for c in timeline.conversations {
            if c.activities[0].at <= at {
                state.conversations += 1
                let before = currentRules.eligibility(of: c, in: timeline)
                let after = candidateRules.eligibility(of: c, in: timeline)
                compare(before, after, conversation: true, purged: Self.isPurged(c), account: account)
                for f in c.feedback where f.submitted.at <= at {
                    state.feedback += 1
                    compare(
                        currentRules.eligibility(ofFeedback: f, of: c, in: timeline),
                        candidateRules.eligibility(ofFeedback: f, of: c, in: timeline), conversation: false, purged: f.purge != nil,
                        account: account)
                }
            }
            for (k, rules) in runRules.enumerated() {
                guard let rules, c.activities[0].at <= rules.current.at else { continue }
                let before = rules.current.eligibility(of: c, in: timeline)
                let after = rules.candidate.eligibility(of: c, in: timeline)
                if before.eligible != after.eligible || (before.eligible && before.exchanges != after.exchanges) {
                    state.runs[k].bucket.count(conversation: true, account: account)
                }
                for f in c.feedback where f.submitted.at <= rules.current.at {
                    if rules.current.eligibility(ofFeedback: f, of: c, in: timeline).eligible
                        != rules.candidate.eligibility(ofFeedback: f, of: c, in: timeline).eligible
                    {
                        state.runs[k].bucket.count(conversation: false, account: account)
                    }
                }
            }
        }
    }

    private mutating func compare(
        _ before: EligibilityDecision, _ after: EligibilityDecision, conversation: Bool, purged: Bool, account: AccountID
    ) {
        if before.reason != after.reason {
            state.eligibility[Transition(from: before.reason.rawValue, to: after.reason.rawValue), default: Bucket()].count(
                conversation: conversation, account: account)
        }
        // Content already purged is gone whatever its retention says.
        guard !purged, before.retainUntil != after.retainUntil else { return }
        if after.retainUntil < before.retainUntil {
            state.purgedEarlier[Self.month(max(after.retainUntil, at)), default: Bucket()].count(
                conversation: conversation, account: account)
        } else {
            state.keptLonger[Self.month(max(before.retainUntil, at)), default: Bucket()].count(conversation: conversation, account: account)
        }
    }

    /// Whether a conversation's exchanges were all purged (a purge after its last activity).
    static func isPurged(_ c: ConversationTimeline) -> Bool {
        guard let purge = c.purges.last, let last = c.activities.last else { return false }
        return purge.stamp > last.stamp
    }

    static func answer(_ body: () throws(AssentError) -> String) -> String {
        do { return try body() } catch { return error.code.rawValue }
    }

    /// `YYYY-MM` of an instant.
    static func month(_ instant: Instant) -> String { String(instant.rfc3339.prefix(7)) }
}
