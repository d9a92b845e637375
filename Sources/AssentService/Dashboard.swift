public import AssentCore
public import AssentStore
import Synchronization

/// The operator dashboard's figures (issue 6), computed in one pass over every timeline with the
/// engine's answers (prompt, eligibility and retention), as of one ledger state.
///
/// It is exact for `asOfSeq`: a cache keyed by that number stays correct, and is recomputed
/// when the ledger has moved.
public struct Dashboard: Sendable {
    public struct Day: Sendable, Hashable {
        public var day: String
        public var on = 0
        public var off = 0
        public var deferred = 0
        public var purged = 0
        /// Live accounts the product still had to ask at the end of the day (or now, for today).
        public var pending = 0

        public init(day: String) {
            self.day = day
        }
    }

    public struct PlanRate: Sendable, Hashable {
        public var plan: String
        public var optedIn = 0
        public var accounts = 0
    }

    /// The ledger state the figures describe.
    public var asOfSeq: Int64
    public var at: Instant
    public var rolloutStart: Instant
    public var decisionDeadline: Instant
    /// Choices, deferrals and purges per UTC day, oldest first.
    public var days: [Day]
    /// Live accounts the product must still ask (signup, notice or required), and all live accounts.
    public var pending: Int
    public var liveAccounts: Int
    /// Live accounts with training on, by the plan they are on now.
    public var optInByPlan: [PlanRate]
    /// Stored conversations by the month their retention ends (`YYYY-MM`), oldest first.
    public var retentionByMonth: [(month: String, conversations: Int)]
    public var conversations: Int
    /// How long computing the figures took (microseconds of the computing server's time): what
    /// paces the next computation (``DashboardPacing``).
    public var tookMicros: Int64 = 0

    /// Whole days from `at` to the deadline (0 once passed).
    public var daysLeft: Int {
        max(0, Int((decisionDeadline.microseconds - at.microseconds + 86_399_999_999) / 86_400_000_000))
    }

    /// Computes the figures at `instant` from the store's timelines.
    public static func compute(store: any Store, at instant: Instant, pendingDays: Int = 60) async throws -> Dashboard {
        let engine = PolicyEngine(policies: try await store.policyHistory())
        let rules = engine.rules(at: instant)
        let bound = Stamp.endOf(instant)
        // Pending per day over the last `pendingDays` days: the prompt changes only at an account's
        // own entries and at the policy's boundaries, so the engine is asked there.
        let dayMicros: Int64 = 86_400_000_000
        let today = instant.microseconds - instant.microseconds % dayMicros
        let windowStart = today - Int64(pendingDays - 1) * dayMicros
        var boundaries: [Instant] = []
        for version in engine.policies.versions {
            boundaries += [version.effectiveFrom, version.policy.rolloutStart, version.policy.decisionDeadline]
        }
        let window = PendingWindow(
            start: windowStart, days: pendingDays, now: instant,
            boundaries: boundaries.filter {
                $0.microseconds > windowStart && $0 <= instant
            })
        let started = ContinuousClock.now
        let state = Mutex(Accumulator(pendingByDay: Array(repeating: 0, count: pendingDays + 1)))
        // The store streams timelines one after another; the lock only satisfies Sendable.
        // The figures are exact for the entry the one read of the timelines ends at.
        let asOf = try await store.forEachTimeline { timeline in
            state.withLock {
                $0.add(timeline, engine: engine, rules: rules, at: instant, bound: bound)
                $0.addPending(timeline, engine: engine, window: window)
            }
        }
        var total = state.withLock { $0 }
        var running = 0
        for k in 0..<pendingDays {
            running += total.pendingByDay[k]
            let day = String(Instant(microseconds: windowStart + Int64(k) * dayMicros).rfc3339.prefix(10))
            total.days[day, default: Day(day: day)].pending = running
        }
        let took = ContinuousClock.now - started
        return Dashboard(
            asOfSeq: asOf, at: instant, rolloutStart: rules.policy.rolloutStart, decisionDeadline: rules.policy.decisionDeadline,
            days: total.days.values.sorted { $0.day < $1.day }, pending: total.pending, liveAccounts: total.live,
            optInByPlan: total.plans.values.sorted { $0.plan < $1.plan },
            retentionByMonth: total.retention.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            conversations: total.conversations,
            tookMicros: took.components.seconds * 1_000_000 + took.components.attoseconds / 1_000_000_000_000)
    }

    struct PendingWindow {
        /// Start of the first day, in microseconds.
        var start: Int64
        var days: Int
        var now: Instant
        /// Policy instants inside the window where any account's prompt may change.
        var boundaries: [Instant]

        /// The first day whose end (or now) is at or after `micros`.
        func dayIndex(atOrAfter micros: Int64) -> Int {
            let dayMicros: Int64 = 86_400_000_000
            if micros <= start { return 0 }
            return Int((micros - start) / dayMicros)
        }
    }

    struct Accumulator {
        var pendingByDay: [Int]
        var days: [String: Day] = [:]
        var pending = 0
        var live = 0
        var plans: [String: PlanRate] = [:]
        var retention: [String: Int] = [:]
        var conversations = 0

        /// Adds the account's pending spans to `pendingByDay` as +1 at the first day it is pending
        /// at the end of and -1 at the first day it is not (a difference array).
        mutating func addPending(_ timeline: AccountTimeline, engine: PolicyEngine, window: PendingWindow) {
            let dayMicros: Int64 = 86_400_000_000
            var changes = [Instant(microseconds: window.start)]
            for k in 0..<timeline.entryCount {
                let at = timeline.entryInstant(at: k)
                if at.microseconds > window.start && at <= window.now { changes.append(at) }
            }
            changes += window.boundaries
            changes.sort()
            // The state at the end of each day is the state after the last change before that end.
            var pendingSince: Int?
            for (k, change) in changes.enumerated() {
                if k + 1 < changes.count, changes[k + 1] == change { continue }
                let pending = (try? engine.prompt(timeline, at: change))?.prompt ?? PromptKind.none != .none
                // Days whose end (start of next day) comes after this change.
                let firstDay = Int((change.microseconds - window.start) / dayMicros)
                if pending, pendingSince == nil {
                    pendingSince = firstDay
                } else if !pending, let since = pendingSince {
                    if firstDay > since {
                        pendingByDay[since] += 1
                        pendingByDay[min(firstDay, window.days)] -= 1
                    }
                    pendingSince = nil
                }
            }
            if let since = pendingSince {
                pendingByDay[since] += 1
                pendingByDay[window.days] -= 1
            }
        }

        mutating func add(_ timeline: AccountTimeline, engine: PolicyEngine, rules: RulesAtInstant, at instant: Instant, bound: Stamp) {
            for choice in timeline.choices where choice.evidence.stamp <= bound {
                let day = String(choice.evidence.at.rfc3339.prefix(10))
                if choice.value == .on { days[day, default: Day(day: day)].on += 1 } else { days[day, default: Day(day: day)].off += 1 }
            }
            for deferral in timeline.deferrals where deferral.stamp <= bound {
                let day = String(deferral.at.rfc3339.prefix(10))
                days[day, default: Day(day: day)].deferred += 1
            }
            for conversation in timeline.conversations {
                for purge in conversation.purges where purge.stamp <= bound {
                    let day = String(purge.at.rfc3339.prefix(10))
                    days[day, default: Day(day: day)].purged += 1
                }
                guard let first = conversation.activities.first, first.stamp <= bound else { continue }
                // Purged throughout: nothing of it is stored any more.
                if conversation.activities.allSatisfy({ conversation.isPurged($0, asOf: bound) }) { continue }
                let decision = rules.eligibility(of: conversation, in: timeline)
                conversations += 1
                retention[String(decision.retainUntil.rfc3339.prefix(7)), default: 0] += 1
            }
            guard let prompt = try? engine.prompt(timeline, at: instant) else { return }  // not yet created, or deleted
            live += 1
            if prompt.prompt != .none { pending += 1 }
            let plan = timeline.plan(at: bound)?.plan ?? "unknown"
            plans[plan, default: PlanRate(plan: plan)].accounts += 1
            if timeline.choice(at: bound)?.value == .on { plans[plan, default: PlanRate(plan: plan)].optedIn += 1 }
        }
    }
}

// MARK: Stored figures

extension Dashboard {
    /// The name the figures are stored under (``SharedFigures``).
    public static let figuresName = "dashboard"

    /// The figures as stored text (canonical JSON), read back by ``init(storedText:)``.
    public var storedText: String {
        func int(_ value: Int) -> JSONValue { .int(value) }
        return JSONValue.object([
            "asOfSeq": .int64(asOfSeq), "at": .string(at.rfc3339), "rolloutStart": .string(rolloutStart.rfc3339),
            "decisionDeadline": .string(decisionDeadline.rfc3339),
            "days": .array(
                days.map {
                    .object([
                        "day": .string($0.day), "on": int($0.on), "off": int($0.off), "deferred": int($0.deferred),
                        "purged": int($0.purged), "pending": int($0.pending),
                    ])
                }),
            "pending": int(pending), "liveAccounts": int(liveAccounts),
            "optInByPlan": .array(
                optInByPlan.map { .object(["plan": .string($0.plan), "optedIn": int($0.optedIn), "accounts": int($0.accounts)]) }),
            "retentionByMonth": .array(retentionByMonth.map { .array([.string($0.month), int($0.conversations)]) }),
            "conversations": int(conversations), "tookMicros": .int64(tookMicros),
        ]).canonicalText
    }

    /// Figures read back from ``storedText``. - Throws: `StoreError.corrupt` for text it did not write.
    public init(storedText text: String) throws {
        let bad = StoreError.corrupt("the stored dashboard figures cannot be read")
        guard case .object(let root)? = try? JSONValue.parse(text) else { throw bad }
        func int(_ value: JSONValue?) throws -> Int {
            guard case .number(let text)? = value, let number = Int(text) else { throw bad }
            return number
        }
        func string(_ value: JSONValue?) throws -> String {
            guard case .string(let text)? = value else { throw bad }
            return text
        }
        func instant(_ value: JSONValue?) throws -> Instant {
            guard let instant = try? Instant(rfc3339: try string(value)) else { throw bad }
            return instant
        }
        func objects(_ value: JSONValue?) throws -> [[String: JSONValue]] {
            guard case .array(let items)? = value else { throw bad }
            return try items.map { item in
                guard case .object(let object) = item else { throw bad }
                return object
            }
        }
        guard case .array(let months)? = root["retentionByMonth"] else { throw bad }
        self.init(
            asOfSeq: Int64(try int(root["asOfSeq"])), at: try instant(root["at"]), rolloutStart: try instant(root["rolloutStart"]),
            decisionDeadline: try instant(root["decisionDeadline"]),
            days: try objects(root["days"]).map { object in
                var day = Day(day: try string(object["day"]))
                day.on = try int(object["on"])
                day.off = try int(object["off"])
                day.deferred = try int(object["deferred"])
                day.purged = try int(object["purged"])
                day.pending = try int(object["pending"])
                return day
            },
            pending: try int(root["pending"]), liveAccounts: try int(root["liveAccounts"]),
            optInByPlan: try objects(root["optInByPlan"]).map {
                PlanRate(plan: try string($0["plan"]), optedIn: try int($0["optedIn"]), accounts: try int($0["accounts"]))
            },
            retentionByMonth: try months.map { pair in
                guard case .array(let parts) = pair, parts.count == 2 else { throw bad }
                return (try string(parts[0]), try int(parts[1]))
            },
            conversations: try int(root["conversations"]),
            // Absent from figures stored before it was kept: as if computed at once.
            tookMicros: root["tookMicros"] == nil ? 0 : Int64(try int(root["tookMicros"])))
    }
}

/// How often the dashboard shared by a database's servers is computed again while the ledger
/// moves. Each computation reads every timeline, like a run: computed again 5 s after the last
/// whenever the ledger had moved, as it was, the figures of 20,000 accounts under a steady stream
/// of events took 1.3–1.7 s each — a fifth of a core, all the time — and with millions of accounts
/// one would start as the last ended. So figures are computed again no sooner than
/// `intervalSeconds` after the last computation ended, and no sooner than nine times as long as it
/// took: computing takes at most a tenth of the time, however large the ledger. Between
/// computations the stored figures are served, saying which entry they are exact for.
public struct DashboardPacing: Sendable, Equatable {
    public var intervalSeconds: Int64

    /// Computations take at most this share of the time.
    public static let computingShare = 0.1

    public init(intervalSeconds: Int64 = 30) {
        self.intervalSeconds = intervalSeconds
    }

    /// When the figures after `dashboard` may be computed: its computation's end, plus the
    /// interval or nine times what it took, whichever is longer.
    public func nextComputation(after dashboard: Dashboard) -> Instant {
        let took = max(0, dashboard.tookMicros)
        let rest = max(intervalSeconds * 1_000_000, Int64((Double(took) * (1 / Self.computingShare - 1)).rounded()))
        return Instant(microseconds: dashboard.at.microseconds + took + rest)
    }
}
