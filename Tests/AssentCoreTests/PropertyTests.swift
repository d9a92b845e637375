import AssentCore
import PropertyBased
import Testing

/// Random timelines built step by step through the core's validation (refused steps are
/// skipped, as a store would refuse them), then checked against the invariants of SPEC §4–§5.
@Suite("Properties over random timelines")
struct PropertyTests {
    typealias Step = (kind: Int, delta: Int, arg: Int)

    static let steps = zip(Gen.int(in: 0...12), Gen.int(in: 0...420), Gen.int(in: 0...9)).array(of: 1...60)
    static let plans = ["free", "pro", "max", "free", "pro", "team", "enterprise", "api", "free", "max"]
    static let conversations = ["c0", "c1", "c2", "c3"]

    /// Policies the properties must hold under.
    static let policyVariants: [PolicyHistory] = {
        func history(_ json: String) -> PolicyHistory {
            let document = try! PolicyDocument(json: json)
            let (history, _) = try! PolicyHistory().applying(document, horizon: nil)
            return history
        }
        return [
            PolicyHistory(),
            history(#"{"version":"since","effectiveFrom":"2025-01-01T00:00:00Z","resumedScope":"sinceResume"}"#),
            history(
                #"{"version":"fb","effectiveFrom":"2025-01-01T00:00:00Z","feedbackTrainingUse":"always","optOutShortensRetention":false}"#),
            history(
                #"{"version":"moved","effectiveFrom":"2025-09-20T00:00:00Z","decisionDeadline":"2025-10-08T00:00:00Z","optInRetention":"1y"}"#
            ),
        ]
    }()

    /// Builds a timeline from steps; returns the builder (events that were refused are absent).
    static func build(_ steps: [Step], policies: PolicyHistory) -> TimelineBuilder {
        var b = TimelineBuilder(account: "a1", policies: policies)
        var clock = t("2025-06-01T00:00:00Z")
        b.must(clock.rfc3339, .accountCreated(plan: plans[steps.first.map { $0.arg } ?? 0]))
        var feedbackCount = 0
        for step in steps {
            // Deltas above 400 are backfills: the event lands before the clock.
            let instant: Instant
            if step.delta > 400 {
                instant = clock.adding(seconds: -Int64(step.delta - 400) * 86_400)
            } else {
                clock = clock.adding(seconds: Int64(step.delta) * 3600)
                instant = clock
            }
            let conversation = conversations[step.arg % conversations.count]
            let body: Event.Body
            switch step.kind {
            case 0: body = .planChanged(plan: plans[step.arg])
            case 1: body = .termsAccepted(version: "2025-09", source: .notice)
            case 2: body = .trainingChoice(value: .on, source: .notice, shownDefault: .on)
            case 3: body = .trainingChoice(value: .off, source: .settings, shownDefault: nil)
            case 4: body = .noticeDeferred
            case 5, 6, 7:
                body = .conversationActivity(
                    conversation: conversation, kind: conversation == "c2" ? .code : .chat, incognito: conversation == "c3", content: nil)
            case 8: body = .conversationDeleted(conversation: conversation)
            case 9:
                feedbackCount += 1
                body = .feedbackSubmitted(conversation: conversation, feedback: "f\(feedbackCount)", rating: .up, comment: nil)
            case 10: body = step.arg == 0 ? .accountDeleted : .noticeShown(surface: .notice)
            default: body = .noticeShown(surface: .settings)
            }
            _ = try? b.add(instant.rfc3339, body)
        }
        return b
    }

    /// Instants worth asking at: every event's instant, points between them, and far after.
    static func sampleInstants(_ timeline: AccountTimeline) -> [Instant] {
        let events = Array(Set(timeline.entries.map(\.event.at))).sorted()
        var out: [Instant] = []
        for (k, instant) in events.enumerated() {
            out.append(instant)
            if k + 1 < events.count {
                let next = events[k + 1]
                out.append(Instant(microseconds: (instant.microseconds + next.microseconds) / 2))
            }
        }
        let last = events.last!
        for days: Int64 in [1, 29, 30, 31, 400, 365 * 5 + 2] { out.append(last.adding(seconds: days * 86_400)) }
        return out
    }

    /// Plan and choice in force just before entry `index`, by a plain scan of the ledger order:
    /// an oracle written apart from the engine's indexes.
    static func optedInByScan(_ timeline: AccountTimeline, before index: Int, policy: Policy) -> Bool {
        var plan: String?
        var choice: ChoiceValue?
        for entry in timeline.entries[..<index] {
            switch entry.event.body {
            case .accountCreated(let p), .planChanged(let p): plan = p
            case .trainingChoice(let value, _, _, _): choice = value
            default: break
            }
        }
        guard let plan else { return false }
        return policy.terms(of: plan) == .consumer && choice == .on
    }

    @Test("no conversation is eligible while the plan is commercial, and no commercial exchange enters")
    func commercialNeverEligible() async {
        await propertyCheck(count: 150, input: Self.steps, Gen.int(in: 0...3)) { steps, variant in
            let b = Self.build(steps, policies: Self.policyVariants[variant])
            for instant in Self.sampleInstants(b.timeline) {
                let policy = b.policies.policy(at: instant)
                for c in b.timeline.conversations where c.activities[0].at <= instant {
                    let d = b.engine.eligibility(of: c, in: b.timeline, at: instant)
                    let planNow = b.timeline.plan(at: .endOf(instant))!.plan
                    if policy.terms(of: planNow) != .consumer { #expect(!d.eligible) }
                    for exchange in d.exchanges {
                        #expect(policy.terms(of: b.timeline.plan(at: exchange.stamp)!.plan) == .consumer)
                    }
                }
            }
        }
    }

    @Test("nothing deleted at or before T is eligible at T")
    func deletedNeverEligible() async {
        await propertyCheck(count: 150, input: Self.steps, Gen.int(in: 0...3)) { steps, variant in
            let b = Self.build(steps, policies: Self.policyVariants[variant])
            for instant in Self.sampleInstants(b.timeline) {
                let accountDeleted = b.timeline.deletion.map { $0.at <= instant } ?? false
                for c in b.timeline.conversations where c.activities[0].at <= instant {
                    let deleted = accountDeleted || (c.deletion.map { $0.at <= instant } ?? false)
                    if deleted {
                        #expect(!b.engine.eligibility(of: c, in: b.timeline, at: instant).eligible)
                        for f in c.feedback where f.submitted.at <= instant {
                            #expect(!b.engine.eligibility(ofFeedback: f, of: c, in: b.timeline, at: instant).eligible)
                        }
                    }
                }
            }
        }
    }

    @Test("nothing with retainUntil ≤ T is eligible at T")
    func expiredNeverEligible() async {
        await propertyCheck(count: 150, input: Self.steps, Gen.int(in: 0...3)) { steps, variant in
            let b = Self.build(steps, policies: Self.policyVariants[variant])
            for instant in Self.sampleInstants(b.timeline) {
                for c in b.timeline.conversations where c.activities[0].at <= instant {
                    let d = b.engine.eligibility(of: c, in: b.timeline, at: instant)
                    if d.retainUntil <= instant { #expect(!d.eligible) }
                    for f in c.feedback where f.submitted.at <= instant {
                        let fd = b.engine.eligibility(ofFeedback: f, of: c, in: b.timeline, at: instant)
                        if fd.retainUntil <= instant { #expect(!fd.eligible) }
                    }
                }
            }
        }
    }

    @Test("eligibility never turns true by the passage of time alone")
    func timeAloneNeverGrants() async {
        await propertyCheck(count: 150, input: Self.steps, Gen.int(in: 0...3)) { steps, variant in
            let b = Self.build(steps, policies: Self.policyVariants[variant])
            let eventInstants = Set(b.timeline.entries.map(\.event.at))
            let policyInstants = Set(b.policies.versions.map(\.effectiveFrom))
            let samples = Self.sampleInstants(b.timeline)
            for (earlier, later) in zip(samples, samples.dropFirst()) where earlier < later {
                // Only pairs with no event and no policy change in (earlier, later].
                let changes = eventInstants.union(policyInstants).contains { $0 > earlier && $0 <= later }
                if changes { continue }
                for c in b.timeline.conversations where c.activities[0].at <= earlier {
                    let before = b.engine.eligibility(of: c, in: b.timeline, at: earlier)
                    let after = b.engine.eligibility(of: c, in: b.timeline, at: later)
                    if !before.eligible { #expect(!after.eligible, "\(c.id) turned eligible between \(earlier) and \(later)") }
                }
            }
        }
    }

    @Test("a conversation with no activity while opted in (since the rollout) is never eligible")
    func noOptedInActivityNeverEligible() async {
        await propertyCheck(count: 150, input: Self.steps, Gen.int(in: 0...3)) { steps, variant in
            let b = Self.build(steps, policies: Self.policyVariants[variant])
            for instant in Self.sampleInstants(b.timeline) {
                let policy = b.policies.policy(at: instant)
                for c in b.timeline.conversations where c.activities[0].at <= instant {
                    let optedInActivity = b.timeline.entries.indices.contains { k in
                        let entry = b.timeline.entries[k]
                        guard entry.event.at <= instant, entry.event.at >= policy.rolloutStart,
                            case .conversationActivity(let id, _, _, _) = entry.event.body, id == c.id
                        else { return false }
                        return Self.optedInByScan(b.timeline, before: k, policy: policy)
                    }
                    let d = b.engine.eligibility(of: c, in: b.timeline, at: instant)
                    if !optedInActivity { #expect(!d.eligible) }
                    // And the converse, for the rules before E8: a pass through E1–E7 with such
                    // activity must be eligible unless every exchange was purged.
                    if optedInActivity, d.reason == .notResumedSinceOptIn {
                        Issue.record("\(c.id) has opted-in activity but E8 at \(instant)")
                    }
                }
            }
        }
    }

    @Test("retainUntil never grows when an off choice or a deletion is added")
    func retentionNeverGrows() async {
        await propertyCheck(count: 150, input: Self.steps, Gen.int(in: 0...3), Gen.int(in: 0...2), Gen.int(in: 0...20_000)) {
            steps, variant, addition, hours in
            let original = Self.build(steps, policies: Self.policyVariants[variant])
            var changed = original
            let at = t("2025-06-01T00:00:00Z").adding(seconds: Int64(hours) * 3600).rfc3339
            let target = original.timeline.conversations.first?.id ?? "c0"
            let body: Event.Body
            switch addition {
            case 0: body = .trainingChoice(value: .off, source: .settings, shownDefault: nil)
            case 1: body = .conversationDeleted(conversation: target)
            default: body = .accountDeleted
            }
            guard (try? changed.add(at, body)) != nil else { return }
            let lastInstant = max(changed.timeline.entries.last!.event.at, original.timeline.entries.last!.event.at)
            for instant in Self.sampleInstants(changed.timeline) + [lastInstant] {
                for c in original.timeline.conversations where c.activities[0].at <= instant {
                    let before = try original.engine.retainUntil(of: c.id, in: original.timeline, at: instant).retainUntil
                    let after = try changed.engine.retainUntil(of: c.id, in: changed.timeline, at: instant).retainUntil
                    #expect(after <= before, "\(c.id) at \(instant): \(before) grew to \(after) after \(body) at \(at)")
                }
            }
        }
    }

    /// Every fact a timeline derives, for comparing two timelines.
    struct Facts: Equatable {
        var entries: [TimelineEntry]
        var creation: Evidence?
        var plans: [PlanMark]
        var acceptances: [AcceptanceMark]
        var choices: [ChoiceMark]
        var deferrals: [Evidence]
        var deletion: Evidence?
        var conversations: [ConversationTimeline]
        var feedbackConversation: [FeedbackID: ConversationID]

        init(_ t: AccountTimeline) {
            entries = t.entries
            creation = t.creation
            plans = t.plans
            acceptances = t.acceptances
            choices = t.choices
            deferrals = t.deferrals
            deletion = t.deletion
            conversations = t.conversations
            feedbackConversation = t.feedbackConversation
        }
    }

    @Test("a timeline renumbered after a seq, copied or in place, is the timeline of its entries so renumbered; the original is unchanged")
    func shiftingSeqs() async {
        await propertyCheck(count: 150, input: Self.steps, Gen.int(in: 0...3), Gen.int(in: 0...100), Gen.int(in: 1...5_000)) {
            steps, variant, cut, shift in
            var b = Self.build(steps, policies: Self.policyVariants[variant])
            // Purges too (a sweep's entries), of a conversation and of a feedback, when there are any.
            let later = b.timeline.entries.last!.event.at.adding(seconds: 3600)
            if let c = b.timeline.conversations.first {
                _ = try? b.add(later.rfc3339, .contentPurged(conversation: c.id, feedback: c.feedback.first?.id))
                _ = try? b.add(later.adding(seconds: 60).rfc3339, .contentPurged(conversation: c.id, feedback: nil))
            }
            let original = b.timeline
            let before = Facts(original)
            let after = Int64(cut) * (b.nextSeq - 1) / 100
            let shifted = original.shiftingSeqs(after: after, by: Int64(shift))
            let renumbered = original.entries.map { TimelineEntry(seq: $0.seq > after ? $0.seq + Int64(shift) : $0.seq, event: $0.event) }
            #expect(Facts(shifted) == Facts(AccountTimeline(account: original.account, entries: renumbered)))
            #expect(Facts(original) == before)
            if after < b.nextSeq - 1 { #expect(Facts(shifted) != before) }
            // In place, on a timeline nothing else holds (no copy made): the same facts.
            var unique = AccountTimeline(account: original.account, entries: original.entries)
            unique.shiftSeqs(after: after, by: Int64(shift))
            #expect(Facts(unique) == Facts(shifted))
            // Again, after a later cut: the renumbering of the renumbered entries.
            let second = after + Int64(shift) / 2
            unique.shiftSeqs(after: second, by: 3)
            let again = renumbered.map { TimelineEntry(seq: $0.seq > second ? $0.seq + 3 : $0.seq, event: $0.event) }
            #expect(Facts(unique) == Facts(AccountTimeline(account: original.account, entries: again)))
            // Seqs against the instants' order (each entry as if backfilled before the earlier
            // ones): every entry and fact is read, with the same result as building it so.
            let reversed = original.entries.map { TimelineEntry(seq: b.nextSeq - $0.seq, event: $0.event) }
            let expected = reversed.map { TimelineEntry(seq: $0.seq > after ? $0.seq + Int64(shift) : $0.seq, event: $0.event) }
            #expect(
                Facts(AccountTimeline(account: original.account, entries: reversed).shiftingSeqs(after: after, by: Int64(shift)))
                    == Facts(AccountTimeline(account: original.account, entries: expected)))
        }
    }

    @Test("a timeline cut after a seq is the timeline it was when that entry was the last accepted")
    func upToSeq() async {
        await propertyCheck(count: 150, input: Self.steps, Gen.int(in: 0...3), Gen.int(in: 0...100)) { steps, variant, cut in
            let full = Self.build(steps, policies: Self.policyVariants[variant]).timeline
            // The same steps, stopped earlier: what the timeline was then.
            // (At least the first step: it also picks the plan the account is created with.)
            let earlier = Self.build(Array(steps.prefix(max(1, steps.count * cut / 100))), policies: Self.policyVariants[variant]).timeline
            let last = earlier.entries.map(\.seq).max() ?? 0
            #expect(Facts(full.upTo(seq: last)) == Facts(earlier))
            #expect(full.upTo(seq: last).entries.map(\.seq).sorted() == earlier.entries.map(\.seq).sorted())
        }
    }

    @Test("the generator reaches every reason, so the properties are not vacuous")
    func generatorCoversReasons() async {
        var seen: Set<EligibilityReason> = []
        for variant in Self.policyVariants {
            var rng = SplitMix(seed: 42)
            for _ in 0..<300 {
                let steps: [Step] = (0..<Int.random(in: 10...60, using: &rng)).map { _ in
                    (Int.random(in: 0...12, using: &rng), Int.random(in: 0...420, using: &rng), Int.random(in: 0...9, using: &rng))
                }
                let b = Self.build(steps, policies: variant)
                for instant in Self.sampleInstants(b.timeline) {
                    for c in b.timeline.conversations where c.activities[0].at <= instant {
                        seen.insert(b.engine.eligibility(of: c, in: b.timeline, at: instant).reason)
                    }
                }
            }
        }
        #expect(seen == Set(EligibilityReason.allCases))
    }

    @Test("a timeline rebuilt from its entries in any order decides the same")
    func rebuildIsOrderIndependent() async {
        await propertyCheck(count: 100, input: Self.steps) { steps throws in
            let b = Self.build(steps, policies: PolicyHistory())
            let rebuilt = AccountTimeline(account: "a1", entries: b.timeline.entries.reversed())
            for instant in Self.sampleInstants(b.timeline) {
                for c in b.timeline.conversations where c.activities[0].at <= instant {
                    let fromRebuilt = try b.engine.eligibility(of: c.id, in: rebuilt, at: instant)
                    #expect(b.engine.eligibility(of: c, in: b.timeline, at: instant) == fromRebuilt)
                }
            }
        }
    }
}

/// A small deterministic generator for coverage checks.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
