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
        try await conversationStatuses(of: timeline, at: instant, page: ConversationPage()).statuses
    }

    /// One page (``ConversationPage``) of an account's conversations with their status at `at`,
    /// most recent activity first, and the cursor of the next page when there is one. Only the
    /// page's conversations are decided.
    func conversationStatuses(of timeline: AccountTimeline, at instant: Instant, page: ConversationPage) async throws
        -> (statuses: [ConversationStatus], olderBefore: ConversationCursor?)
    {
        let bound = Stamp.endOf(instant)
        var ordered = timeline.conversations.filter { $0.activities.first.map { $0.stamp <= bound } ?? false }
        ordered.sort { ($0.activities.last!.stamp, $0.id) > ($1.activities.last!.stamp, $1.id) }
        if let before = page.before?.stamp { ordered.removeAll { $0.activities.last!.stamp >= before } }
        var olderBefore: ConversationCursor?
        if let limit = page.limit, ordered.count > limit {
            ordered.removeSubrange(limit...)
            olderBefore = ordered.last.map { ConversationCursor(stamp: $0.activities.last!.stamp) }
        }
        if ordered.isEmpty { return ([], olderBefore) }
        let rules = PolicyEngine(policies: try await store.policyHistory()).rules(at: instant)
        var runsByConversation: [ConversationID: [String]] = [:]
        for run in try await store.lineage(account: timeline.account) {
            for id in run.conversations { runsByConversation[id, default: []].append(run.name) }
        }
        let statuses = ordered.map {
            ConversationStatus(conversation: $0, decision: rules.eligibility(of: $0, in: timeline), runs: runsByConversation[$0.id] ?? [])
        }
        return (statuses, olderBefore)
    }

    /// Everything Assent holds on an account: its ledger entries with the text of its stored
    /// exchanges and feedback (it is their data), its prompt and choice, each conversation's status
    /// and retention, and the runs that hold its data. The entries are read a page at a time as
    /// the export is written (``AccountExport/write(pageEntries:_:)``): memory and each read stay
    /// bounded whatever the account's size.
    /// - Throws: `unknown_account` (before anything is written).
    public func accountExport(account: AccountID, at instant: Instant) async throws -> AccountExport {
        let timeline = try await existingTimeline(of: account)
        return AccountExport(
            store: store, account: account, at: instant, choice: timeline.choices.last?.value,
            seqs: try await store.ledgerSeqs(ofAccount: account),
            conversations: try await conversationStatuses(of: timeline, at: instant), runs: try await store.lineage(account: account),
            prompt: try? PolicyEngine(policies: try await store.policyHistory()).prompt(timeline, at: instant))
    }
}

/// Everything Assent holds on an account, as its owner may download it: what was decided when it
/// was asked for, and its ledger entries' numbers, read with their text page by page as it is
/// written out.
public struct AccountExport: Sendable {
    let store: any Store
    public var account: AccountID
    public var at: Instant
    /// The choice in force last, nil before any.
    public var choice: ChoiceValue?
    /// The account's ledger entries when the export was asked for, ascending.
    public var seqs: [Int64]
    public var conversations: [ConversationStatus]
    public var runs: [LineageRun]
    /// What the account must be asked now; nil for a deleted account.
    public var prompt: PromptDecision?

    /// Entries read and written at a time.
    public static let pageEntries = 500

    /// Writes the export's JSON (`GET /v1/me/export`: keys in sorted order, as every JSON answer)
    /// to `emit` in parts: everything before the entries, then each page of entries with their
    /// stored text as it is read, then the rest. An entry purged meanwhile comes without its text.
    public func write(pageEntries: Int = Self.pageEntries, _ emit: ([UInt8]) async throws -> Void) async throws {
        precondition(pageEntries > 0, "a page holds an entry")
        var head: [UInt8] = []
        head.append(UInt8(ascii: "{"))
        for (key, value) in [
            ("account", JSONValue.string(account)), ("at", .string(at.rfc3339)), ("choice", choice.map { .string($0.rawValue) } ?? .null),
            ("conversations", .array(conversations.map(\.json))),
        ] {
            JSONValue.writeString(key, to: &head)
            head.append(UInt8(ascii: ":"))
            value.write(to: &head)
            head.append(UInt8(ascii: ","))
        }
        head.append(contentsOf: #""entries":["#.utf8)
        try await emit(head)
        var first = true
        for start in stride(from: 0, to: seqs.count, by: pageEntries) {
            let page = Array(seqs[start..<min(start + pageEntries, seqs.count)])
            var out: [UInt8] = []
            for entry in try await store.ledgerEntriesWithContent(ofAccount: account, seqs: page) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                entry.record.ownerJSON(text: entry.text).write(to: &out)
            }
            if !out.isEmpty { try await emit(out) }
        }
        var tail: [UInt8] = [UInt8(ascii: "]")]
        if let prompt {
            tail.append(contentsOf: #","prompt":"#.utf8)
            prompt.json.write(to: &tail)
        }
        tail.append(contentsOf: #","runs":"#.utf8)
        JSONValue.array(
            runs.map {
                .object(["name": .string($0.name), "conversations": .strings($0.conversations), "feedback": .strings($0.feedback)])
            }
        ).write(to: &tail)
        tail.append(UInt8(ascii: "}"))
        try await emit(tail)
    }
}
