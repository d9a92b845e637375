/// A position in the ledger's order: the instant, then the sequence number that breaks ties.
public struct Stamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var at: Instant
    public var seq: Int64

    public init(at: Instant, seq: Int64) {
        self.at = at
        self.seq = seq
    }

    /// The bound of a question asked at instant T: everything at or before T, whatever its
    /// sequence number.
    public static func endOf(_ instant: Instant) -> Stamp { Stamp(at: instant, seq: .max) }

    public static func < (lhs: Stamp, rhs: Stamp) -> Bool {
        lhs.at != rhs.at ? lhs.at < rhs.at : lhs.seq < rhs.seq
    }

    public var description: String { "#\(seq)@\(at)" }
}

/// A ledger entry that decided something: its sequence number, type and instant.
public struct Evidence: Hashable, Sendable {
    public var seq: Int64
    public var type: EventType
    public var at: Instant

    public init(seq: Int64, type: EventType, at: Instant) {
        self.seq = seq
        self.type = type
        self.at = at
    }

    public var stamp: Stamp { Stamp(at: at, seq: seq) }
}

/// One accepted event with its place in the ledger.
public struct TimelineEntry: Hashable, Sendable {
    public var seq: Int64
    public var event: Event

    public init(seq: Int64, event: Event) {
        self.seq = seq
        self.event = event
    }

    public var stamp: Stamp { Stamp(at: event.at, seq: seq) }
    public var evidence: Evidence { Evidence(seq: seq, type: event.type, at: event.at) }
}

/// A feedback as its timeline knows it.
public struct FeedbackRecord: Hashable, Sendable {
    public var id: FeedbackID
    public var submitted: Evidence
    public var rating: Rating
    /// The sweep that purged it, if any.
    public var purge: Evidence?
}

/// One conversation's facts, derived from its account's timeline.
///
/// Its lists live in one copy-on-write box, so that passing a conversation around costs one
/// reference count rather than one per list.
public struct ConversationTimeline: Hashable, Sendable {
    public let id: ConversationID
    public let kind: ConversationKind
    /// Fixed by the first activity.
    public let incognito: Bool
    private var box: Box

    final class Box: @unchecked Sendable {
        // Mutated only while uniquely referenced (see `mutate`), and never while being read:
        // the dynamic exclusivity checks would only cost time on the eligibility hot path.
        @exclusivity(unchecked) var activities: [Evidence] = []
        @exclusivity(unchecked) var deletion: Evidence?
        @exclusivity(unchecked) var feedback: [FeedbackRecord] = []
        @exclusivity(unchecked) var purges: [Evidence] = []

        func copy() -> Box {
            let box = Box()
            box.activities = activities
            box.deletion = deletion
            box.feedback = feedback
            box.purges = purges
            return box
        }
    }

    init(id: ConversationID, kind: ConversationKind, incognito: Bool) {
        self.id = id
        self.kind = kind
        self.incognito = incognito
        box = Box()
    }

    /// Every exchange, in ledger order.
    public var activities: [Evidence] { box.activities }
    public var deletion: Evidence? { box.deletion }
    public var feedback: [FeedbackRecord] { box.feedback }
    /// Sweeps that purged the exchanges made before them.
    public var purges: [Evidence] { box.purges }

    /// Whether a sweep purged this exchange's content as of `bound`: a purge at or before the
    /// bound covers the exchanges recorded before it (earlier in ledger order and in sequence);
    /// an exchange backfilled after the purge was not there to be purged.
    public func isPurged(_ exchange: Evidence, asOf bound: Stamp) -> Bool {
        box.purges.contains { $0.stamp <= bound && exchange.stamp < $0.stamp && exchange.seq < $0.seq }
    }

    mutating func mutate(_ change: (Box) -> Void) {
        if !isKnownUniquelyReferenced(&box) { box = box.copy() }
        change(box)
    }

    public static func == (lhs: ConversationTimeline, rhs: ConversationTimeline) -> Bool {
        lhs.id == rhs.id && lhs.kind == rhs.kind && lhs.incognito == rhs.incognito && lhs.activities == rhs.activities
            && lhs.deletion == rhs.deletion && lhs.feedback == rhs.feedback && lhs.purges == rhs.purges
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(activities)
    }
}

/// A plan in force from an entry on.
public struct PlanMark: Hashable, Sendable {
    public var evidence: Evidence
    public var plan: String
}

/// A terms acceptance.
public struct AcceptanceMark: Hashable, Sendable {
    public var evidence: Evidence
    public var version: String
}

/// A training choice.
public struct ChoiceMark: Hashable, Sendable {
    public var evidence: Evidence
    public var value: ChoiceValue
}

/// What event validation needs to know beyond one account's timeline.
///
/// Conversation and feedback ids are unique across accounts, so the caller (a store) answers who
/// owns an id it knows of, including ids earlier in the same batch.
public struct ValidationContext {
    public var policies: PolicyHistory
    /// Events after this instant are refused as in the future; nil skips the check.
    public var now: Instant?
    public var ownerOfConversation: (ConversationID) -> AccountID?
    public var ownerOfFeedback: (FeedbackID) -> AccountID?

    public init(
        policies: PolicyHistory,
        now: Instant?,
        ownerOfConversation: @escaping (ConversationID) -> AccountID? = { _ in nil },
        ownerOfFeedback: @escaping (FeedbackID) -> AccountID? = { _ in nil }
    ) {
        self.policies = policies
        self.now = now
        self.ownerOfConversation = ownerOfConversation
        self.ownerOfFeedback = ownerOfFeedback
    }
}

/// Where a timeline's entry is: its seq, the end of its bytes in the timeline's byte array and the
/// index of the conversation it is about (-1 for none).
struct EntrySlot: Sendable {
    var seq: Int64
    var end: UInt32
    var conversation: Int32
}

/// One account's ordered timeline (SPEC §1, §6) and the facts derived from it.
///
/// Entries are ordered by instant, then sequence number. Appending validates the event against
/// the timeline with the new event merged in (SPEC §6): a backfill earlier than recorded events
/// replays the whole timeline, so an event that would make a recorded one invalid is refused.
public struct AccountTimeline: Sendable {
    public let account: AccountID
    private var state = State()

    /// Everything derived, in one copy-on-write box: copying a timeline costs one reference count.
    final class State: @unchecked Sendable {
        // Mutated only while uniquely referenced (see `record`), and never while being read:
        // the dynamic exclusivity checks would only cost time on the eligibility hot path.
        // The entries, in ledger order: each one's event in `EventCodec`'s form, one after
        // another in `entryBytes`, and its slot — its seq, where its bytes end and the conversation
        // it is about. Less than half the memory of `TimelineEntry` values, whose strings (ids
        // longer than 15 bytes) would be a heap allocation each; two arrays, so a copy allocates
        // twice.
        @exclusivity(unchecked) var entryBytes: [UInt8] = []
        @exclusivity(unchecked) var entrySlots: [EntrySlot] = []
        @exclusivity(unchecked) var last: Stamp?
        @exclusivity(unchecked) var creation: Evidence?
        @exclusivity(unchecked) var plans: [PlanMark] = []
        @exclusivity(unchecked) var acceptances: [AcceptanceMark] = []
        @exclusivity(unchecked) var choices: [ChoiceMark] = []
        @exclusivity(unchecked) var deferrals: [Evidence] = []
        @exclusivity(unchecked) var deletion: Evidence?
        @exclusivity(unchecked) var conversations: [ConversationTimeline] = []
        @exclusivity(unchecked) var conversationIndex: [ConversationID: Int] = [:]
        @exclusivity(unchecked) var feedbackConversation: [FeedbackID: ConversationID] = [:]
        /// The entries from `seqOrderedFrom` on are in seq order as well as in stamp order, and each
        /// has a greater seq than every entry before them, the greatest of which is
        /// `seqBeforeOrdered`: entries with a seq after one at or above it are the timeline's last
        /// ones, and every fact they hold is last in its list (``AccountTimeline/shiftSeqs(after:by:)``
        /// renumbers them without reading the rest). An account's entries are accepted with
        /// growing seqs, so only a backfill (an entry placed before later ones) moves it.
        @exclusivity(unchecked) var seqOrderedFrom = 0
        @exclusivity(unchecked) var seqBeforeOrdered = Int64.min

        /// Keeps ``seqOrderedFrom`` as an entry of seq `seq` is recorded after the others.
        func noteRecorded(seq: Int64) { noteOrder(seq: seq, at: entrySlots.count) }

        /// ``seqOrderedFrom`` as the entry at `index`, of seq `seq`, follows the ones before it.
        private func noteOrder(seq: Int64, at index: Int) {
            let greatest = index > seqOrderedFrom ? entrySlots[index - 1].seq : seqBeforeOrdered
            if seq <= greatest {
                seqBeforeOrdered = greatest
                seqOrderedFrom = index + 1
            }
        }

        /// ``seqOrderedFrom`` found again from the entries, after seqs anywhere among them moved.
        func noteOrderAgain() {
            seqOrderedFrom = 0
            seqBeforeOrdered = .min
            for k in entrySlots.indices { noteOrder(seq: entrySlots[k].seq, at: k) }
        }

        /// Room for `count` entries of `bytes` bytes in all (estimated when nil).
        func reserve(_ count: Int, bytes: Int? = nil) {
            entrySlots.reserveCapacity(count)
            entryBytes.reserveCapacity(bytes ?? count * 32)
        }

        func copy() -> State {
            let state = State()
            state.entryBytes = entryBytes
            state.entrySlots = entrySlots
            state.last = last
            state.creation = creation
            state.plans = plans
            state.acceptances = acceptances
            state.choices = choices
            state.deferrals = deferrals
            state.deletion = deletion
            state.conversations = conversations
            state.conversationIndex = conversationIndex
            state.feedbackConversation = feedbackConversation
            state.seqOrderedFrom = seqOrderedFrom
            state.seqBeforeOrdered = seqBeforeOrdered
            return state
        }
    }

    /// Every accepted event, in ledger order (instant, then sequence number), decoded.
    public var entries: [TimelineEntry] { (0..<state.entrySlots.count).map(entry(at:)) }
    /// How many entries the timeline holds.
    public var entryCount: Int { state.entrySlots.count }

    /// The instant of the `k`-th entry in ledger order, read without decoding the entry.
    public func entryInstant(at k: Int) -> Instant {
        readEntry(k) { EventCodec.instant(of: $0) }
    }

    /// The `k`-th entry in ledger order, decoded.
    public func entry(at k: Int) -> TimelineEntry {
        TimelineEntry(seq: state.entrySlots[k].seq, event: readEntry(k) { EventCodec.decode($0, account: account) })
    }

    /// What `read` finds in the `k`-th entry's bytes; they were encoded here, so it finds something.
    private func readEntry<T>(_ k: Int, _ read: (UnsafeRawBufferPointer) -> T?) -> T {
        let state = self.state
        let start = k == 0 ? 0 : Int(state.entrySlots[k - 1].end)
        let end = Int(state.entrySlots[k].end)
        guard let found = state.entryBytes.withUnsafeBytes({ read(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }) else {
            preconditionFailure("entry #\(state.entrySlots[k].seq) of \(account)'s timeline does not decode")
        }
        return found
    }
    public var creation: Evidence? { state.creation }
    /// Plan changes in ledger order, starting with the plan given at creation.
    public var plans: [PlanMark] { state.plans }
    public var acceptances: [AcceptanceMark] { state.acceptances }
    public var choices: [ChoiceMark] { state.choices }
    public var deferrals: [Evidence] { state.deferrals }
    public var deletion: Evidence? { state.deletion }
    /// Conversations in the order of their first activity.
    public var conversations: [ConversationTimeline] { state.conversations }
    /// The conversation each feedback belongs to.
    public var feedbackConversation: [FeedbackID: ConversationID] { state.feedbackConversation }

    /// An empty timeline for an account that has no events yet.
    public init(account: AccountID) {
        self.account = account
    }

    /// A timeline of entries already accepted (e.g. loaded from the ledger), in any order.
    /// They are not validated again.
    public init(account: AccountID, entries: [TimelineEntry]) {
        self.account = account
        let sorted = entries.sorted { $0.stamp < $1.stamp }
        state.reserve(sorted.count)
        for entry in sorted { record(entry) }
    }

    /// The conversation with this id, if it has any activity.
    public func conversation(_ id: ConversationID) -> ConversationTimeline? {
        state.conversationIndex[id].map { state.conversations[$0] }
    }

    /// Whether the conversation with this id has any activity (``conversation(_:)`` without
    /// copying it out).
    public func hasConversation(_ id: ConversationID) -> Bool {
        state.conversationIndex[id] != nil
    }

    /// Makes room for `count` entries of `bytes` bytes in all.
    mutating func reserve(entries count: Int, bytes: Int) {
        if !isKnownUniquelyReferenced(&state) { state = state.copy() }
        state.reserve(count, bytes: bytes)
    }

    /// The stamp of the last entry, if any.
    public var lastStamp: Stamp? { state.last }

    /// Validates `event` against this timeline (SPEC §6) and adds it.
    ///
    /// - Parameters:
    ///   - event: the event; its account must be this timeline's.
    ///   - seq: its ledger sequence number, greater than every recorded one.
    ///   - context: the policy history, the current instant and cross-account ownership.
    /// - Throws: the refusal's code and reason; the timeline is unchanged on error.
    public mutating func append(_ event: Event, seq: Int64, validatingWith context: ValidationContext) throws(AssentError) {
        guard event.account == account else {
            throw .invalidEvent("event for account \(event.account) given to the timeline of \(account)")
        }
        if let now = context.now, event.at > now {
            throw .invalidEvent("instant \(event.at) is in the future")
        }
        let entry = TimelineEntry(seq: seq, event: event)
        if let last = lastStamp, entry.stamp < last {
            try backfill(entry, context: context)
        } else {
            try check(entry, context: context)
            record(entry)
        }
    }

    private mutating func backfill(_ entry: TimelineEntry, context: ValidationContext) throws(AssentError) {
        var merged = entries
        let position = merged.firstIndex { entry.stamp < $0.stamp } ?? merged.count
        merged.insert(entry, at: position)
        var rebuilt = AccountTimeline(account: account)
        rebuilt.state.reserve(merged.count)
        for candidate in merged {
            do {
                try rebuilt.check(candidate, context: context)
            } catch {
                if candidate.seq == entry.seq { throw error }
                throw .invalidEvent(
                    "backfilled \(entry.event.type.rawValue) at \(entry.event.at) would make recorded \(candidate.event.type.rawValue) #\(candidate.seq) at \(candidate.event.at) invalid (\(error.code): \(error.message))"
                )
            }
            rebuilt.record(candidate)
        }
        self = rebuilt
    }

    // MARK: Validation (SPEC §6)

    /// Checks that `entry` may follow every entry recorded so far.
    private func check(_ entry: TimelineEntry, context: ValidationContext) throws(AssentError) {
        let event = entry.event
        let policy = context.policies.policy(at: event.at)
        if case .accountCreated(let plan) = event.body {
            if let deletion {
                throw .accountDeleted("account \(account) was deleted at \(deletion.at)")
            }
            if creation != nil { throw .invalidEvent("account \(account) already exists") }
            try checkPlan(plan, policy: policy)
            return
        }
        guard creation != nil else {
            throw .unknownAccount("account \(account) does not exist at \(event.at)")
        }
        // Sweeps purge the content of deleted accounts too: that is what deletion asks for.
        if let deletion, event.type != .contentPurged {
            throw .accountDeleted("account \(account) was deleted at \(deletion.at)")
        }
        switch event.body {
        case .accountCreated:
            break
        case .planChanged(let plan):
            try checkPlan(plan, policy: policy)
        case .termsAccepted(let version, _):
            try checkAfterRollout(event, policy: policy)
            guard context.policies.isPublishedTermsVersion(version, at: event.at) else {
                throw .invalidEvent("unknown terms version \(Instant.quoted(version)) at \(event.at)")
            }
        case .trainingChoice:
            try checkAfterRollout(event, policy: policy)
            guard !acceptances.isEmpty else {
                throw .termsNotAccepted("account \(account) has accepted no terms at or before \(event.at)")
            }
        case .noticeDeferred:
            let prompt = try promptDecision(bound: entry.stamp, policy: policy)
            guard prompt.prompt == .notice else {
                if event.at >= policy.decisionDeadline {
                    throw .deadlinePassed("the decision deadline \(policy.decisionDeadline) has passed; \"not now\" is no longer offered")
                }
                throw .invalidEvent(
                    "a deferral is accepted only while the notice is shown; the prompt at \(event.at) is \(prompt.prompt.rawValue) (\(prompt.rule))"
                )
            }
        case .conversationActivity(let id, let kind, let incognito, _):
            if let conversation = conversation(id) {
                if let deleted = conversation.deletion {
                    throw .invalidEvent("conversation \(id) was deleted at \(deleted.at)")
                }
                if conversation.incognito != incognito {
                    throw .invalidEvent(
                        "conversation \(id) is \(conversation.incognito ? "" : "not ")incognito; its first activity fixed that")
                }
                if conversation.kind != kind {
                    throw .invalidEvent("conversation \(id) is a \(conversation.kind.rawValue), not a \(kind.rawValue)")
                }
            } else {
                try checkNotForeign(conversation: id, context: context)
            }
        case .conversationDeleted(let id):
            let conversation = try existingConversation(id, at: event.at, context: context)
            if let deleted = conversation.deletion {
                throw .invalidEvent("conversation \(id) was already deleted at \(deleted.at)")
            }
        case .feedbackSubmitted(let id, let feedback, _, _):
            let conversation = try existingConversation(id, at: event.at, context: context)
            if let deleted = conversation.deletion {
                throw .invalidEvent("conversation \(id) was deleted at \(deleted.at)")
            }
            if feedbackConversation[feedback] != nil {
                throw .invalidEvent("feedback \(feedback) already exists")
            }
            if let owner = context.ownerOfFeedback(feedback), owner != account {
                throw .invalidEvent("feedback \(feedback) already exists for another account")
            }
        case .accountDeleted, .noticeShown:
            break
        case .contentPurged(let id, let feedback):
            let conversation = try existingConversation(id, at: event.at, context: context)
            if let feedback, !conversation.feedback.contains(where: { $0.id == feedback }) {
                throw .invalidEvent("feedback \(feedback) does not exist in conversation \(id)")
            }
        }
    }

    private func checkPlan(_ plan: String, policy: Policy) throws(AssentError) {
        guard policy.terms(of: plan) != nil else {
            let known = (policy.consumerPlans + policy.commercialPlans).joined(separator: ", ")
            throw .invalidEvent("unknown plan \(Instant.quoted(plan)); the policy in force lists \(known)")
        }
    }

    private func checkAfterRollout(_ event: Event, policy: Policy) throws(AssentError) {
        guard event.at >= policy.rolloutStart else {
            throw .invalidEvent("\(event.type.rawValue) at \(event.at) is before the rollout \(policy.rolloutStart)")
        }
    }

    private func checkNotForeign(conversation id: ConversationID, context: ValidationContext) throws(AssentError) {
        if let owner = context.ownerOfConversation(id), owner != account {
            throw .invalidEvent("conversation \(id) belongs to another account")
        }
    }

    private func existingConversation(_ id: ConversationID, at instant: Instant, context: ValidationContext) throws(AssentError)
        -> ConversationTimeline
    {
        if let conversation = conversation(id) { return conversation }
        try checkNotForeign(conversation: id, context: context)
        throw .unknownConversation("conversation \(id) does not exist at \(instant)")
    }

    // MARK: Recording

    /// Adds an entry known to be valid and ordered after every recorded one: its event's bytes
    /// as `encoded` holds them (read from the ledger), else encoded here.
    mutating func record(_ entry: TimelineEntry, encoded: UnsafeRawBufferPointer? = nil) {
        if !isKnownUniquelyReferenced(&state) { state = state.copy() }
        let state = self.state
        if let encoded { state.entryBytes.append(contentsOf: encoded) } else { EventCodec.append(entry.event, to: &state.entryBytes) }
        precondition(state.entryBytes.count <= UInt32.max, "a timeline of over 4 GiB")
        state.last = entry.stamp
        let evidence = entry.evidence
        var about: Int?
        switch entry.event.body {
        case .accountCreated(let plan):
            state.creation = evidence
            state.plans.append(PlanMark(evidence: evidence, plan: plan))
        case .planChanged(let plan):
            state.plans.append(PlanMark(evidence: evidence, plan: plan))
        case .termsAccepted(let version, _):
            state.acceptances.append(AcceptanceMark(evidence: evidence, version: version))
        case .trainingChoice(let value, _, _, _):
            state.choices.append(ChoiceMark(evidence: evidence, value: value))
        case .noticeDeferred:
            state.deferrals.append(evidence)
        case .conversationActivity(let id, let kind, let incognito, _):
            let k: Int
            if let existing = state.conversationIndex[id] {
                k = existing
            } else {
                k = state.conversations.count
                state.conversations.append(ConversationTimeline(id: id, kind: kind, incognito: incognito))
                state.conversationIndex[id] = k
            }
            state.conversations[k].mutate { $0.activities.append(evidence) }
            about = k
        case .conversationDeleted(let id):
            about = state.conversationIndex[id]
            if let k = about { state.conversations[k].mutate { $0.deletion = evidence } }
        case .feedbackSubmitted(let id, let feedback, let rating, _):
            about = state.conversationIndex[id]
            if let k = about {
                state.conversations[k].mutate { $0.feedback.append(FeedbackRecord(id: feedback, submitted: evidence, rating: rating)) }
            }
            state.feedbackConversation[feedback] = id
        case .accountDeleted:
            state.deletion = evidence
        case .noticeShown:
            break
        case .contentPurged(let id, let feedback):
            about = state.conversationIndex[id]
            guard let k = about else { break }
            state.conversations[k].mutate { box in
                if let feedback {
                    if let f = box.feedback.firstIndex(where: { $0.id == feedback }) { box.feedback[f].purge = evidence }
                } else {
                    box.purges.append(evidence)
                }
            }
        }
        state.noteRecorded(seq: entry.seq)
        state.entrySlots.append(
            EntrySlot(
                seq: entry.seq, end: UInt32(truncatingIfNeeded: state.entryBytes.count),
                conversation: about.map { Int32(truncatingIfNeeded: $0) } ?? -1))
    }

    // MARK: Renumbering

    /// Where the entries in seq order begin, and the greatest seq before them (tests).
    var seqOrder: (from: Int, before: Int64) { (state.seqOrderedFrom, state.seqBeforeOrdered) }

    /// The same timeline with every entry after seq `after` given a seq `shift` greater, in the
    /// entries and in every fact derived from them: what the timeline of a batch's account
    /// becomes when the batch, validated after entry `after`, is written after `shift` entries of
    /// other accounts instead. Nothing is validated again and the order is unchanged: the entries
    /// moved stay after every entry at or before `after`, and among themselves.
    /// - Precondition: `shift >= 0`.
    public func shiftingSeqs(after: Int64, by shift: Int64) -> AccountTimeline {
        var shifted = self
        shifted.shiftSeqs(after: after, by: shift)
        return shifted
    }

    /// The timeline as it was before the entries after seq `last` were accepted (itself when it
    /// has none): rebuilt from the entries at or before it.
    public func upTo(seq last: Int64) -> AccountTimeline {
        guard state.entrySlots.contains(where: { $0.seq > last }) else { return self }
        return AccountTimeline(account: account, entries: entries.filter { $0.seq <= last })
    }

    /// Renumbers this timeline as ``shiftingSeqs(after:by:)`` does, in place: when nothing else
    /// holds the timeline (a batch's, once written), no entry or fact is copied.
    /// - Precondition: `shift >= 0`.
    public mutating func shiftSeqs(after: Int64, by shift: Int64) {
        precondition(shift >= 0, "seqs only move later")
        guard shift > 0 else { return }
        // When `after` is at or above every seq before the ordered entries (a batch's account:
        // every earlier entry was written before the batch), the entries renumbered are the last
        // ones and each fact they hold is last in its list: read from the end, as far as they go,
        // not through the account's whole history.
        let lastOnly = after >= state.seqBeforeOrdered
        var first = state.entrySlots.count
        if lastOnly {
            while first > state.seqOrderedFrom, state.entrySlots[first - 1].seq > after { first -= 1 }
        } else if let k = state.entrySlots.firstIndex(where: { $0.seq > after }) {
            first = k
        }
        guard first < state.entrySlots.count else { return }
        if !isKnownUniquelyReferenced(&state) { state = state.copy() }
        let state = self.state
        func move(_ evidence: inout Evidence) { if evidence.seq > after { evidence.seq += shift } }
        func move(_ evidence: inout Evidence?) { if evidence != nil { move(&evidence!) } }
        /// Moves the elements of a list in stamp order whose seq is after `after`: from its end,
        /// stopping at the first that is not when `lastOnly`.
        func moveEach<T>(_ list: inout [T], _ seq: (T) -> Int64, _ bump: (inout T) -> Void) {
            var k = list.count
            while k > 0 {
                k -= 1
                if seq(list[k]) > after { bump(&list[k]) } else if lastOnly { return }
            }
        }
        // The conversations whose facts hold a moved entry: the ones the moved entries are about.
        var touched: [Int] = []
        for k in first..<state.entrySlots.count where state.entrySlots[k].seq > after {
            state.entrySlots[k].seq += shift
            let about = Int(state.entrySlots[k].conversation)
            if about >= 0, !touched.contains(about) { touched.append(about) }
        }
        if let last = state.last, let seq = state.entrySlots.last?.seq { state.last = Stamp(at: last.at, seq: seq) }
        move(&state.creation)
        move(&state.deletion)
        moveEach(&state.plans, { $0.evidence.seq }) { $0.evidence.seq += shift }
        moveEach(&state.acceptances, { $0.evidence.seq }) { $0.evidence.seq += shift }
        moveEach(&state.choices, { $0.evidence.seq }) { $0.evidence.seq += shift }
        moveEach(&state.deferrals, { $0.seq }) { $0.seq += shift }
        for k in touched {
            state.conversations[k].mutate { box in
                moveEach(&box.activities, { $0.seq }) { $0.seq += shift }
                move(&box.deletion)
                // A feedback's purge is set where the feedback stands: every feedback is read.
                for f in box.feedback.indices {
                    move(&box.feedback[f].submitted)
                    move(&box.feedback[f].purge)
                }
                moveEach(&box.purges, { $0.seq }) { $0.seq += shift }
            }
        }
        if !lastOnly { state.noteOrderAgain() }
    }

    // MARK: Facts at a bound

    /// Index of the last element whose stamp is at or before `bound`, or nil.
    @inline(__always)
    static func lastIndex<T>(in array: [T], notAfter bound: Stamp, stamp: (T) -> Stamp) -> Int? {
        var low = 0
        var high = array.count
        while low < high {
            let mid = (low + high) >> 1
            if stamp(array[mid]) <= bound { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? nil : low - 1
    }

    /// The plan in force at `bound`, with the entry that set it.
    public func plan(at bound: Stamp) -> PlanMark? {
        let plans = state.plans
        return Self.lastIndex(in: plans, notAfter: bound) { $0.evidence.stamp }.map { plans[$0] }
    }

    /// The latest choice at or before `bound`.
    public func choice(at bound: Stamp) -> ChoiceMark? {
        let choices = state.choices
        return Self.lastIndex(in: choices, notAfter: bound) { $0.evidence.stamp }.map { choices[$0] }
    }

    /// `optedIn(t)` of SPEC §4: a consumer plan and a latest choice `on` at `bound`.
    @inline(__always)
    public func isOptedIn(at bound: Stamp, policy: Policy) -> Bool {
        guard let plan = plan(at: bound), !policy.isCommercial(plan.plan) else { return false }
        return choice(at: bound)?.value == .on
    }

    /// The account's deletion, if it happened at or before `bound`.
    public func deletion(notAfter bound: Stamp) -> Evidence? {
        guard let deletion, deletion.stamp <= bound else { return nil }
        return deletion
    }

    /// The latest acceptance of `version` (any version when nil) at or before `bound`.
    public func acceptance(of version: String?, notAfter bound: Stamp) -> Evidence? {
        acceptances.last { $0.evidence.stamp <= bound && (version == nil || $0.version == version) }?.evidence
    }
}

extension AccountTimeline {
    /// An estimate of the memory this timeline holds, in bytes, for caches bounded by size: the
    /// entries' storage as allocated, the facts derived from them (an evidence or a mark each,
    /// with their lists' room to grow) and the conversations with their index. Costs nothing to
    /// ask on every write; it errs high, never by orders of magnitude.
    public var estimatedBytes: Int {
        let state = self.state
        let entries =
            state.entryBytes.capacity + state.entrySlots.capacity * MemoryLayout<EntrySlot>.stride
        let perFact = MemoryLayout<PlanMark>.stride
        let stringBytes = 48  // an id or a short value: inline up to 15 bytes, else a heap copy
        let perConversation = MemoryLayout<ConversationTimeline>.stride + 128 + 3 * stringBytes
        return 512 + account.utf8.count + entries + state.entrySlots.count * perFact + state.conversations.count * perConversation
    }
}
