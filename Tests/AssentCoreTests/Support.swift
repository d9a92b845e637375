import AssentCore
import Testing

/// Parses an RFC 3339 instant in tests (crashes on malformed text: a test bug, not a result).
func t(_ text: String) -> Instant {
    guard let instant = Instant.parse(text) else { fatalError("bad test instant \(text)") }
    return instant
}

let rollout = Policy.seedDefault.rolloutStart
let deadline = Policy.seedDefault.decisionDeadline

/// Builds one account's timeline event by event through the core's validation, as a store would.
struct TimelineBuilder {
    var timeline: AccountTimeline
    var nextSeq: Int64 = 1
    var policies: PolicyHistory
    var now: Instant?
    var foreignConversations: [ConversationID: AccountID] = [:]
    var foreignFeedback: [FeedbackID: AccountID] = [:]

    init(account: AccountID = "a1", policies: PolicyHistory = PolicyHistory(), now: Instant? = nil) {
        timeline = AccountTimeline(account: account)
        self.policies = policies
        self.now = now
    }

    var account: AccountID { timeline.account }
    var engine: PolicyEngine { PolicyEngine(policies: policies) }

    var context: ValidationContext {
        let conversations = foreignConversations
        let feedback = foreignFeedback
        return ValidationContext(
            policies: policies, now: now,
            ownerOfConversation: { conversations[$0] }, ownerOfFeedback: { feedback[$0] })
    }

    /// Appends an event; returns its sequence number.
    @discardableResult
    mutating func add(_ at: String, _ body: Event.Body) throws(AssentError) -> Int64 {
        let seq = nextSeq
        try timeline.append(Event(account: account, at: t(at), body), seq: seq, validatingWith: context)
        nextSeq += 1
        return seq
    }

    /// Like `add`, for events the test expects to be accepted.
    @discardableResult
    mutating func must(_ at: String, _ body: Event.Body) -> Int64 {
        do {
            return try add(at, body)
        } catch {
            fatalError("test setup event refused: \(error)")
        }
    }

    // Shorthands for the common events.
    @discardableResult mutating func created(_ at: String, plan: String = "free") -> Int64 { must(at, .accountCreated(plan: plan)) }
    @discardableResult mutating func accepted(_ at: String, version: String = "2025-09") -> Int64 {
        must(at, .termsAccepted(version: version, source: .notice))
    }
    @discardableResult mutating func choice(_ at: String, _ value: ChoiceValue) -> Int64 {
        must(at, .trainingChoice(value: value, source: .settings, shownDefault: nil))
    }
    @discardableResult mutating func acceptAndChoose(_ at: String, _ value: ChoiceValue) -> Int64 {
        accepted(at)
        return must(at, .trainingChoice(value: value, source: .notice, shownDefault: .on))
    }
    @discardableResult mutating func activity(
        _ at: String, _ conversation: ConversationID = "c1", kind: ConversationKind = .chat, incognito: Bool = false
    ) -> Int64 {
        must(at, .conversationActivity(conversation: conversation, kind: kind, incognito: incognito, content: nil))
    }
    @discardableResult mutating func plan(_ at: String, _ plan: String) -> Int64 { must(at, .planChanged(plan: plan)) }
    @discardableResult mutating func deleteConversation(_ at: String, _ conversation: ConversationID = "c1") -> Int64 {
        must(at, .conversationDeleted(conversation: conversation))
    }
    @discardableResult mutating func feedback(_ at: String, _ id: FeedbackID = "f1", conversation: ConversationID = "c1") -> Int64 {
        must(at, .feedbackSubmitted(conversation: conversation, feedback: id, rating: .up, comment: nil))
    }
    @discardableResult mutating func deleteAccount(_ at: String) -> Int64 { must(at, .accountDeleted) }

    func eligibility(_ conversation: ConversationID = "c1", at: String) throws(AssentError) -> EligibilityDecision {
        try engine.eligibility(of: conversation, in: timeline, at: t(at))
    }
    func feedbackEligibility(_ id: FeedbackID = "f1", at: String) throws(AssentError) -> EligibilityDecision {
        try engine.eligibility(ofFeedback: id, in: timeline, at: t(at))
    }
    func retainUntil(_ conversation: ConversationID = "c1", at: String) throws(AssentError) -> RetentionDecision {
        try engine.retainUntil(of: conversation, in: timeline, at: t(at))
    }
    func prompt(at: String) throws(AssentError) -> PromptDecision {
        try engine.prompt(timeline, at: t(at))
    }
}

/// The error an expression throws, or nil.
func thrownError<T>(_ body: () throws -> T) -> AssentError? {
    do {
        _ = try body()
        return nil
    } catch let error as AssentError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}
