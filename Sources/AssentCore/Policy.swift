/// How much of a resumed conversation enters a run (SPEC §2 `resumedScope`).
public enum ResumedScope: String, CaseIterable, Hashable, Sendable {
    /// Resuming while opted in brings the earlier exchanges in too.
    case whole
    /// Only exchanges from the first qualifying activity on.
    case sinceResume
}

/// Whether feedback follows the training choice (SPEC §2 `feedbackTrainingUse`).
public enum FeedbackTrainingUse: String, CaseIterable, Hashable, Sendable {
    case followsChoice
    /// Consumer feedback may enter whatever the choice (E5, E6 and E8 are waived for it).
    case always
}

/// Which terms govern a plan.
public enum PlanTerms: Hashable, Sendable {
    case consumer
    case commercial
}

/// One version of the policy document of SPEC §2: every parameter the rules read.
///
/// The built-in default, ``Policy/seedDefault``, carries the values of the seed announcement.
public struct Policy: Hashable, Sendable {
    public var version: String
    public var termsVersion: String
    public var rolloutStart: Instant
    public var decisionDeadline: Instant
    public var optInRetention: RetentionPeriod
    public var optOutRetention: RetentionPeriod
    public var deletedRetention: RetentionPeriod
    public var feedbackRetention: RetentionPeriod
    public var commercialRetention: RetentionPeriod
    public var optOutShortensRetention: Bool
    public var resumedScope: ResumedScope
    public var feedbackTrainingUse: FeedbackTrainingUse
    public var consumerPlans: [String] { didSet { rebuildPlanIndex() } }
    public var commercialPlans: [String] { didSet { rebuildPlanIndex() } }

    private var termsByPlan: [String: PlanTerms] = [:]

    public init(
        version: String,
        termsVersion: String,
        rolloutStart: Instant,
        decisionDeadline: Instant,
        optInRetention: RetentionPeriod,
        optOutRetention: RetentionPeriod,
        deletedRetention: RetentionPeriod,
        feedbackRetention: RetentionPeriod,
        commercialRetention: RetentionPeriod,
        optOutShortensRetention: Bool,
        resumedScope: ResumedScope,
        feedbackTrainingUse: FeedbackTrainingUse,
        consumerPlans: [String],
        commercialPlans: [String]
    ) {
        self.version = version
        self.termsVersion = termsVersion
        self.rolloutStart = rolloutStart
        self.decisionDeadline = decisionDeadline
        self.optInRetention = optInRetention
        self.optOutRetention = optOutRetention
        self.deletedRetention = deletedRetention
        self.feedbackRetention = feedbackRetention
        self.commercialRetention = commercialRetention
        self.optOutShortensRetention = optOutShortensRetention
        self.resumedScope = resumedScope
        self.feedbackTrainingUse = feedbackTrainingUse
        self.consumerPlans = consumerPlans
        self.commercialPlans = commercialPlans
        rebuildPlanIndex()
    }

    private mutating func rebuildPlanIndex() {
        var index: [String: PlanTerms] = [:]
        for plan in commercialPlans { index[plan] = .commercial }
        for plan in consumerPlans { index[plan] = .consumer }
        termsByPlan = index
    }

    /// The policy of the seed announcement (SPEC §2's defaults).
    public static let seedDefault = Policy(
        version: "consumer-terms-2025-09",
        termsVersion: "2025-09",
        rolloutStart: Instant(civil: CivilDateTime(year: 2025, month: 8, day: 28)),
        decisionDeadline: Instant(civil: CivilDateTime(year: 2025, month: 9, day: 28)),
        optInRetention: .years(5),
        optOutRetention: .days(30),
        deletedRetention: .days(30),
        feedbackRetention: .years(5),
        commercialRetention: .days(30),
        optOutShortensRetention: true,
        resumedScope: .whole,
        feedbackTrainingUse: .followsChoice,
        consumerPlans: ["free", "pro", "max"],
        commercialPlans: ["team", "enterprise", "api", "bedrock", "vertex", "gov", "education"]
    )

    /// The terms that govern `plan`, or nil for a plan this version does not list.
    public func terms(of plan: String) -> PlanTerms? { termsByPlan[plan] }

    /// True unless `plan` is a consumer plan of this version. A plan the version does not list
    /// is treated as commercial by the rules: never trained on, never prompted
    /// (docs/decisions.md, "Unlisted plans").
    ///
    /// A linear scan: policies list a handful of consumer plans, and comparing short strings is
    /// far cheaper than hashing them on the eligibility hot path.
    @inline(__always)
    public func isCommercial(_ plan: String) -> Bool {
        for consumer in consumerPlans where consumer == plan { return false }
        return true
    }

    /// Checks the document's consistency.
    /// - Throws: `invalid_policy` naming the field and why.
    public func validate() throws(AssentError) {
        if version.isEmpty { throw .invalidPolicy("version: must not be empty") }
        if termsVersion.isEmpty { throw .invalidPolicy("termsVersion: must not be empty") }
        if decisionDeadline < rolloutStart {
            throw .invalidPolicy("decisionDeadline: \(decisionDeadline) is before rolloutStart \(rolloutStart)")
        }
        for (field, plans) in [("consumerPlans", consumerPlans), ("commercialPlans", commercialPlans)] {
            var seen: Set<String> = []
            for plan in plans {
                if plan.isEmpty { throw .invalidPolicy("\(field): a plan name must not be empty") }
                if !seen.insert(plan).inserted { throw .invalidPolicy("\(field): plan \"\(plan)\" is listed twice") }
            }
        }
        if let both = consumerPlans.first(where: { commercialPlans.contains($0) }) {
            throw .invalidPolicy("consumerPlans: plan \"\(both)\" is also in commercialPlans; a plan is governed by one set of terms")
        }
    }
}

// MARK: - Versions and history

/// A policy version with the instant from which it is in force.
public struct PolicyVersion: Hashable, Sendable {
    public var policy: Policy
    public var effectiveFrom: Instant

    public init(policy: Policy, effectiveFrom: Instant) {
        self.policy = policy
        self.effectiveFrom = effectiveFrom
    }
}

/// Every policy version in the order applied. The version in force at T is the one with the
/// latest `effectiveFrom` ≤ T (among equal ones, the one applied last).
public struct PolicyHistory: Hashable, Sendable {
    public private(set) var versions: [PolicyVersion]
    /// Indexes into `versions`, sorted by (effectiveFrom, applied order).
    private var byEffectiveFrom: [Int]

    /// A history holding only the built-in default, in force from the beginning of time.
    public init() {
        versions = [PolicyVersion(policy: .seedDefault, effectiveFrom: .beginningOfTime)]
        byEffectiveFrom = [0]
    }

    /// A history of versions as recorded (e.g. loaded from the ledger), in applied order.
    /// The first must be in force from the beginning of time.
    public init(versions: [PolicyVersion]) {
        precondition(!versions.isEmpty, "a policy history holds at least the default")
        self.versions = versions
        self.byEffectiveFrom = versions.indices.sorted {
            (versions[$0].effectiveFrom, $0) < (versions[$1].effectiveFrom, $1)
        }
    }

    /// The version in force at `instant`.
    public func version(at instant: Instant) -> PolicyVersion {
        if byEffectiveFrom.count == 1 { return versions[byEffectiveFrom[0]] }
        var low = 0
        var high = byEffectiveFrom.count
        while low < high {
            let mid = (low + high) / 2
            if versions[byEffectiveFrom[mid]].effectiveFrom <= instant { low = mid + 1 } else { high = mid }
        }
        return versions[byEffectiveFrom[max(low - 1, 0)]]
    }

    /// The policy in force at `instant`.
    public func policy(at instant: Instant) -> Policy { version(at: instant).policy }

    /// Whether `termsVersion` is the terms version of some policy version in force at or before
    /// `instant`: a user can accept terms that have been published, not ones announced for later.
    public func isPublishedTermsVersion(_ termsVersion: String, at instant: Instant) -> Bool {
        versions.contains { $0.effectiveFrom <= instant && $0.policy.termsVersion == termsVersion }
    }

    /// Validates a policy file and returns the history with it added.
    ///
    /// Fields the file leaves out keep their values from the version in force at its
    /// `effectiveFrom`. The new version must take effect after `horizon` (the newest instant the
    /// ledger has decided on): the past is not rewritten.
    /// - Throws: `invalid_policy` naming the field and why.
    public func applying(_ document: PolicyDocument, horizon: Instant?) throws(AssentError) -> (PolicyHistory, PolicyVersion) {
        if let horizon, document.effectiveFrom <= horizon {
            throw .invalidPolicy(
                "effectiveFrom: \(document.effectiveFrom) is not after the ledger's horizon \(horizon); the past is not rewritten")
        }
        if versions.contains(where: { $0.policy.version == document.version }) {
            throw .invalidPolicy("version: \"\(document.version)\" already exists; each version needs a new name")
        }
        let base = policy(at: document.effectiveFrom)
        let policy = document.merged(over: base)
        try policy.validate()
        let version = PolicyVersion(policy: policy, effectiveFrom: document.effectiveFrom)
        return (PolicyHistory(versions: versions + [version]), version)
    }
}

// MARK: - The policy file

/// A policy file as written by an operator (SPEC §7): the fields of §2, each optional except
/// `version` and `effectiveFrom`.
public struct PolicyDocument: Hashable, Sendable {
    public var version: String
    public var effectiveFrom: Instant
    public var termsVersion: String?
    public var rolloutStart: Instant?
    public var decisionDeadline: Instant?
    public var optInRetention: RetentionPeriod?
    public var optOutRetention: RetentionPeriod?
    public var deletedRetention: RetentionPeriod?
    public var feedbackRetention: RetentionPeriod?
    public var commercialRetention: RetentionPeriod?
    public var optOutShortensRetention: Bool?
    public var resumedScope: ResumedScope?
    public var feedbackTrainingUse: FeedbackTrainingUse?
    public var consumerPlans: [String]?
    public var commercialPlans: [String]?

    public init(version: String, effectiveFrom: Instant) {
        self.version = version
        self.effectiveFrom = effectiveFrom
    }

    /// Parses a policy file's JSON text.
    /// - Throws: `invalid_policy` naming the field and why.
    public init(json text: String) throws(AssentError) {
        let value: JSONValue
        do {
            value = try JSONValue.parse(text)
        } catch {
            throw .invalidPolicy(error.description)
        }
        try self.init(json: value)
    }

    public init(json value: JSONValue) throws(AssentError) {
        var fields = try JSONFields(value, what: "a policy", error: { AssentError.invalidPolicy($0) })
        version = try fields.string("version")
        effectiveFrom = try fields.instant("effectiveFrom")
        termsVersion = try fields.optionalString("termsVersion")
        if termsVersion == "" { throw .invalidPolicy("termsVersion: must not be empty") }
        rolloutStart = try fields.optionalInstant("rolloutStart")
        decisionDeadline = try fields.optionalInstant("decisionDeadline")
        func period(_ key: String) throws(AssentError) -> RetentionPeriod? {
            guard let text = try fields.optionalString(key) else { return nil }
            return try RetentionPeriod(parsing: text, field: key)
        }
        optInRetention = try period("optInRetention")
        optOutRetention = try period("optOutRetention")
        deletedRetention = try period("deletedRetention")
        feedbackRetention = try period("feedbackRetention")
        commercialRetention = try period("commercialRetention")
        optOutShortensRetention = try fields.optionalBool("optOutShortensRetention")
        resumedScope = try fields.optionalEnum("resumedScope", ResumedScope.self)
        feedbackTrainingUse = try fields.optionalEnum("feedbackTrainingUse", FeedbackTrainingUse.self)
        consumerPlans = try fields.optionalStringArray("consumerPlans")
        commercialPlans = try fields.optionalStringArray("commercialPlans")
        try fields.refuseUnknownFields()
    }

    /// The complete policy: this document's fields over `base`'s.
    public func merged(over base: Policy) -> Policy {
        Policy(
            version: version,
            termsVersion: termsVersion ?? base.termsVersion,
            rolloutStart: rolloutStart ?? base.rolloutStart,
            decisionDeadline: decisionDeadline ?? base.decisionDeadline,
            optInRetention: optInRetention ?? base.optInRetention,
            optOutRetention: optOutRetention ?? base.optOutRetention,
            deletedRetention: deletedRetention ?? base.deletedRetention,
            feedbackRetention: feedbackRetention ?? base.feedbackRetention,
            commercialRetention: commercialRetention ?? base.commercialRetention,
            optOutShortensRetention: optOutShortensRetention ?? base.optOutShortensRetention,
            resumedScope: resumedScope ?? base.resumedScope,
            feedbackTrainingUse: feedbackTrainingUse ?? base.feedbackTrainingUse,
            consumerPlans: consumerPlans ?? base.consumerPlans,
            commercialPlans: commercialPlans ?? base.commercialPlans
        )
    }
}

extension PolicyVersion {
    /// The version as a complete policy file (every field, plus `effectiveFrom`): what
    /// `policy show --json` prints and what the ledger records.
    public var json: JSONValue {
        let p = policy
        return .object([
            "version": .string(p.version),
            "effectiveFrom": .string(effectiveFrom.rfc3339),
            "termsVersion": .string(p.termsVersion),
            "rolloutStart": .string(p.rolloutStart.rfc3339),
            "decisionDeadline": .string(p.decisionDeadline.rfc3339),
            "optInRetention": .string(p.optInRetention.description),
            "optOutRetention": .string(p.optOutRetention.description),
            "deletedRetention": .string(p.deletedRetention.description),
            "feedbackRetention": .string(p.feedbackRetention.description),
            "commercialRetention": .string(p.commercialRetention.description),
            "optOutShortensRetention": .bool(p.optOutShortensRetention),
            "resumedScope": .string(p.resumedScope.rawValue),
            "feedbackTrainingUse": .string(p.feedbackTrainingUse.rawValue),
            "consumerPlans": .array(p.consumerPlans.map(JSONValue.string)),
            "commercialPlans": .array(p.commercialPlans.map(JSONValue.string)),
        ])
    }

    /// Reads a version back from its complete JSON (as written by ``json``).
    public init(json value: JSONValue) throws(AssentError) {
        let document = try PolicyDocument(json: value)
        let policy = document.merged(over: .seedDefault)
        try policy.validate()
        self.init(policy: policy, effectiveFrom: document.effectiveFrom)
    }
}
