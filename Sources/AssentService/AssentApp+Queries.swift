public import AssentCore
public import AssentStore
import Synchronization

// The questions the command line, the HTTP API and the pages all ask, answered once here: load
// from the store and let the engine decide.

extension AssentApp {
    /// SPEC §7's `runs show` shape, streamed: the summary's fields, then each id as it is read
    /// (a run may hold millions). `write` gets the text in pieces, in order.
    public func streamRunManifest(_ summary: RunSummary, write: @Sendable (String) throws -> Void) async throws {
        var header = JSONValue.object(summary.json).canonicalText
        header.removeLast()
        try write(header + ",\"conversations\":[")
        for kind in RunItemKind.allCases {
            if kind == .feedback { try write("],\"feedback\":[") }
            let first = Mutex(true)
            try await store.forEachRunItem(run: summary.name, kind: kind) { item in
                let separator = first.withLock { isFirst in
                    defer { isFirst = false }
                    return isFirst ? "" : ","
                }
                try write(separator + JSONValue.string(item.id).canonicalText)
            }
        }
        try write("]}\n")
    }

    /// What a sweep at `at` would purge, in the order the sweep purges it, writing nothing
    /// (SPEC §7 `sweep --dry-run`). Unlike a sweep, it may be asked at any instant, also after
    /// now, to see what retention will remove.
    public func sweepPreview(at instant: Instant) async throws -> SweepResult {
        let engine = PolicyEngine(policies: try await store.policyHistory())
        let purged = Mutex(SweepResult(at: instant, conversations: [], feedback: []))
        try await store.forEachTimeline { timeline in
            let purges = engine.purges(in: timeline, at: instant)
            guard !purges.isEmpty else { return }
            purged.withLock { result in
                for purge in purges {
                    guard case .contentPurged(let conversation, let feedback) = purge.event.body else { continue }
                    if let feedback { result.feedback.append(feedback) } else { result.conversations.append(conversation) }
                }
            }
        }
        return purged.withLock { $0 }
    }

    /// The timeline of an account that exists.
    /// - Throws: `unknown_account`.
    public func existingTimeline(of account: AccountID) async throws -> AccountTimeline {
        guard let timeline = try await store.timeline(of: account) else {
            throw AssentError.unknownAccount("account \(account) does not exist")
        }
        return timeline
    }

    /// What the account must be asked at `at` (SPEC §3).
    /// - Throws: `unknown_account`, `account_deleted`.
    public func prompt(account: AccountID, at instant: Instant) async throws -> PromptDecision {
        let (timeline, policies) = try await store.decisionInputs(account: account)
        guard let timeline else {
            throw AssentError.unknownAccount("account \(account) does not exist at \(instant)")
        }
        return try PolicyEngine(policies: policies).prompt(timeline, at: instant)
    }

    /// May the conversation enter a run at `at`, why, and which runs hold it.
    /// - Throws: `unknown_conversation`, also before its first activity.
    public func explain(conversation id: ConversationID, at instant: Instant) async throws -> Explanation {
        // The runs are looked up beside the decision's inputs (independent reads).
        async let runs = store.runs(holdingConversation: id)
        guard let (account, timeline, policies) = try await store.decisionInputs(conversation: id) else {
            throw AssentError.unknownConversation("conversation \(id) does not exist at \(instant)")
        }
        let decision = try PolicyEngine(policies: policies).eligibility(of: id, in: timeline, at: instant)
        return Explanation(conversation: id, account: account, at: instant, decision: decision, runs: try await runs)
    }

    /// The runs holding an account's data. - Throws: `unknown_account`.
    public func lineage(ofAccount account: AccountID) async throws -> Lineage {
        _ = try await existingTimeline(of: account)
        return Lineage(account: account, conversation: nil, runs: try await store.lineage(account: account))
    }

    /// The runs holding a conversation. - Throws: `unknown_conversation`.
    public func lineage(ofConversation id: ConversationID) async throws -> Lineage {
        guard let owner = try await store.account(ofConversation: id) else {
            throw AssentError.unknownConversation("conversation \(id) does not exist")
        }
        let runs = try await store.lineage(account: owner).compactMap { run -> LineageRun? in
            run.conversations.contains(id) ? LineageRun(name: run.name, conversations: [id], feedback: []) : nil
        }
        return Lineage(account: owner, conversation: id, runs: runs)
    }

    /// Every conversation of an account with its status at `at`, most recent activity first.
    public func conversationStatuses(of timeline: AccountTimeline, at instant: Instant) async throws -> [ConversationStatus] {
        let rules = PolicyEngine(policies: try await store.policyHistory()).rules(at: instant)
        let held = try await store.lineage(account: timeline.account)
        var runsByConversation: [ConversationID: [String]] = [:]
        for run in held {
            for id in run.conversations { runsByConversation[id, default: []].append(run.name) }
        }
        let bound = Stamp.endOf(instant)
        return timeline.conversations
            .filter { $0.activities.first.map { $0.stamp <= bound } ?? false }
            .map {
                ConversationStatus(
                    conversation: $0, decision: rules.eligibility(of: $0, in: timeline), runs: runsByConversation[$0.id] ?? [])
            }
            .sorted {
                ($0.conversation.activities.last!.stamp, $0.conversation.id) > ($1.conversation.activities.last!.stamp, $1.conversation.id)
            }
    }

    /// Everything Assent holds on an account: its ledger entries with the text of its stored
    /// exchanges and feedback (it is their data), its prompt and choice, each conversation's status
    /// and retention, and the runs that hold its data.
    public func accountExport(account: AccountID, at instant: Instant) async throws -> AccountExport {
        let timeline = try await existingTimeline(of: account)
        return AccountExport(
            account: account, at: instant, choice: timeline.choices.last?.value,
            entries: try await store.ledgerEntriesWithContent(ofAccount: account),
            conversations: try await conversationStatuses(of: timeline, at: instant), runs: try await store.lineage(account: account),
            prompt: try? PolicyEngine(policies: try await store.policyHistory()).prompt(timeline, at: instant))
    }
}

/// Everything Assent holds on an account, as its owner may download it.
public struct AccountExport: Sendable {
    /// A ledger entry with the text of its exchange or comment while it is stored.
    public typealias Entry = StoredEntry

    public var account: AccountID
    public var at: Instant
    /// The choice in force last, nil before any.
    public var choice: ChoiceValue?
    public var entries: [Entry]
    public var conversations: [ConversationStatus]
    public var runs: [LineageRun]
    /// What the account must be asked now; nil for a deleted account.
    public var prompt: PromptDecision?
}
