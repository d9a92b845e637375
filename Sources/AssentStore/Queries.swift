public import AssentCore
import Synchronization

// The questions the command line, the HTTP API and the pages all ask, answered once here: load
// from the store, let the engine decide, and give SPEC §7's JSON shapes.

/// SPEC §7's `explain` answer.
public struct Explanation: Sendable {
    public var conversation: ConversationID
    public var account: AccountID
    public var at: Instant
    public var decision: EligibilityDecision
    /// The runs that hold the conversation, oldest first.
    public var runs: [String]

    public var json: JSONValue {
        .object([
            "conversation": .string(conversation), "account": .string(account), "at": .string(at.rfc3339),
            "eligible": .bool(decision.eligible), "reason": .string(decision.reason.rawValue),
            "retainUntil": .string(decision.retainUntil.rfc3339), "evidence": .array(decision.evidence.map(\.json)),
            "runs": .strings(runs),
        ])
    }
}

/// SPEC §7's `lineage` answer.
public struct Lineage: Sendable {
    public var account: AccountID
    /// Set when the question named a conversation.
    public var conversation: ConversationID?
    public var runs: [LineageRun]

    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "account": .string(account),
            "runs": .array(runs.map { .object(["name": .string($0.name), "conversations": .strings($0.conversations)]) }),
        ]
        if let conversation { object["conversation"] = .string(conversation) }
        return .object(object)
    }
}

/// One conversation of an account as its owner sees it: may it be used, why, kept until when.
public struct ConversationStatus: Sendable {
    public var conversation: ConversationTimeline
    public var decision: EligibilityDecision
    public var runs: [String]

    public var json: JSONValue {
        .object([
            "conversation": .string(conversation.id), "kind": .string(conversation.kind.rawValue),
            "incognito": .bool(conversation.incognito), "deleted": .bool(conversation.deletion != nil),
            "firstActivityAt": .string(conversation.activities.first!.at.rfc3339),
            "lastActivityAt": .string(conversation.activities.last!.at.rfc3339),
            "eligible": .bool(decision.eligible), "reason": .string(decision.reason.rawValue),
            "retainUntil": .string(decision.retainUntil.rfc3339), "runs": .strings(runs),
        ])
    }
}

extension PromptDecision {
    /// `{"account","at","prompt","canUse","deferrable"}` (SPEC §7).
    public var json: JSONValue {
        .object([
            "account": .string(account), "at": .string(at.rfc3339), "prompt": .string(prompt.rawValue),
            "canUse": .bool(canUse), "deferrable": .bool(deferrable),
        ])
    }
}

extension Evidence {
    /// `{"seq","type","at"}`.
    public var json: JSONValue { .object(["seq": .int64(seq), "type": .string(type.rawValue), "at": .string(at.rfc3339)]) }
}

extension LedgerRecord {
    /// `{"seq","at","actor","kind","body"}` with the body as JSON, for an account's export.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "seq": .int64(seq), "at": .string(at.rfc3339), "actor": .string(actor), "kind": .string(kind),
            "body": (try? JSONValue.parse(body)) ?? .string(body),
        ]
        if let contentSha256 { object["contentSha256"] = .string(contentSha256) }
        return .object(object)
    }
}

extension LedgerRecord {
    /// Who wrote the entry, as the account's owner sees it: `user`, `service` (the product's back
    /// end or another service key) or `operator` (the command line, the console, Assent itself) —
    /// never the name of a key or of a person.
    public var actorKind: String {
        if actor.hasPrefix("user:") { return "user" }
        if actor.hasPrefix("key:") { return "service" }
        return "operator"
    }

    /// The entry as its owner's export shows it: the actor's kind, and the text of the exchange
    /// or comment while it is stored (`text` is absent once purged or when none was given).
    public func ownerJSON(text: String?) -> JSONValue {
        guard case .object(var object) = json else { return json }
        object["actor"] = .string(actorKind)
        if let text { object["text"] = .string(text) }
        return .object(object)
    }
}

extension PolicyHistory {
    /// SPEC §7's `policy show`: the version in force at `now` plus the history.
    public func showJSON(now: Instant) -> JSONValue {
        guard case .object(var object) = version(at: now).json else { return .null }
        object["history"] = .array(versions.map {
            .object(["version": .string($0.policy.version), "effectiveFrom": .string($0.effectiveFrom.rfc3339)])
        })
        return .object(object)
    }
}

extension Store {
    /// SPEC §7's `runs show` shape, streamed: the summary's fields, then each id as it is read
    /// (a run may hold millions). `write` gets the text in pieces, in order.
    public func streamRunManifest(_ summary: RunSummary, write: @Sendable (String) throws -> Void) async throws {
        var header = JSONValue.object(summary.json).canonicalText
        header.removeLast()
        try write(header + ",\"conversations\":[")
        for kind in RunItemKind.allCases {
            if kind == .feedback { try write("],\"feedback\":[") }
            let first = Mutex(true)
            try await forEachRunItem(run: summary.name, kind: kind) { item in
                let separator = first.withLock { isFirst in defer { isFirst = false }; return isFirst ? "" : "," }
                try write(separator + JSONValue.string(item.id).canonicalText)
            }
        }
        try write("]}\n")
    }

    /// What a sweep at `at` would purge, in the order the sweep purges it, writing nothing
    /// (SPEC §7 `sweep --dry-run`). Unlike a sweep, it may be asked at any instant, also after
    /// now, to see what retention will remove.
    public func sweepPreview(at instant: Instant) async throws -> SweepResult {
        let engine = PolicyEngine(policies: try await policyHistory())
        let purged = Mutex(SweepResult(at: instant, conversations: [], feedback: []))
        try await forEachTimeline { timeline in
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
        guard let timeline = try await timeline(of: account) else {
            throw AssentError.unknownAccount("account \(account) does not exist")
        }
        return timeline
    }

    /// What the account must be asked at `at` (SPEC §3).
    /// - Throws: `unknown_account`, `account_deleted`.
    public func prompt(account: AccountID, at instant: Instant) async throws -> PromptDecision {
        let (timeline, policies) = try await decisionInputs(account: account)
        guard let timeline else {
            throw AssentError.unknownAccount("account \(account) does not exist at \(instant)")
        }
        return try PolicyEngine(policies: policies).prompt(timeline, at: instant)
    }

    /// May the conversation enter a run at `at`, why, and which runs hold it.
    /// - Throws: `unknown_conversation`, also before its first activity.
    public func explain(conversation id: ConversationID, at instant: Instant) async throws -> Explanation {
        guard let account = try await account(ofConversation: id), let timeline = try await timeline(of: account) else {
            throw AssentError.unknownConversation("conversation \(id) does not exist at \(instant)")
        }
        let decision = try PolicyEngine(policies: try await policyHistory()).eligibility(of: id, in: timeline, at: instant)
        return Explanation(conversation: id, account: account, at: instant, decision: decision, runs: try await runs(holdingConversation: id))
    }

    /// The runs holding an account's data. - Throws: `unknown_account`.
    public func lineage(ofAccount account: AccountID) async throws -> Lineage {
        _ = try await existingTimeline(of: account)
        return Lineage(account: account, conversation: nil, runs: try await lineage(account: account))
    }

    /// The runs holding a conversation. - Throws: `unknown_conversation`.
    public func lineage(ofConversation id: ConversationID) async throws -> Lineage {
        guard let owner = try await account(ofConversation: id) else {
            throw AssentError.unknownConversation("conversation \(id) does not exist")
        }
        let runs = try await lineage(account: owner).compactMap { run -> LineageRun? in
            run.conversations.contains(id) ? LineageRun(name: run.name, conversations: [id], feedback: []) : nil
        }
        return Lineage(account: owner, conversation: id, runs: runs)
    }

    /// Every conversation of an account with its status at `at`, most recent activity first.
    public func conversationStatuses(of timeline: AccountTimeline, at instant: Instant) async throws -> [ConversationStatus] {
        let rules = PolicyEngine(policies: try await policyHistory()).rules(at: instant)
        let held = try await lineage(account: timeline.account)
        var runsByConversation: [ConversationID: [String]] = [:]
        for run in held {
            for id in run.conversations { runsByConversation[id, default: []].append(run.name) }
        }
        let bound = Stamp.endOf(instant)
        return timeline.conversations
            .filter { $0.activities.first.map { $0.stamp <= bound } ?? false }
            .map { ConversationStatus(conversation: $0, decision: rules.eligibility(of: $0, in: timeline), runs: runsByConversation[$0.id] ?? []) }
            .sorted { ($0.conversation.activities.last!.stamp, $0.conversation.id) > ($1.conversation.activities.last!.stamp, $1.conversation.id) }
    }

    /// Everything Assent holds on an account: its ledger entries with the text of its stored
    /// exchanges and feedback (it is their data), its prompt and choice, each conversation's status
    /// and retention, and the runs that hold its data.
    public func accountExport(account: AccountID, at instant: Instant) async throws -> JSONValue {
        let timeline = try await existingTimeline(of: account)
        var entries: [JSONValue] = []
        for record in try await ledgerEntries(ofAccount: account) {
            entries.append(record.ownerJSON(text: record.contentSha256 == nil ? nil : try await content(ofEntry: record.seq)))
        }
        let statuses = try await conversationStatuses(of: timeline, at: instant)
        let held = try await lineage(account: account)
        var object: [String: JSONValue] = [
            "account": .string(account), "at": .string(instant.rfc3339),
            "choice": timeline.choices.last.map { .string($0.value.rawValue) } ?? .null,
            "entries": .array(entries),
            "conversations": .array(statuses.map(\.json)),
            "runs": .array(held.map { .object(["name": .string($0.name), "conversations": .strings($0.conversations), "feedback": .strings($0.feedback)]) }),
        ]
        if let prompt = try? PolicyEngine(policies: try await policyHistory()).prompt(timeline, at: instant) {
            object["prompt"] = prompt.json
        }
        return .object(object)
    }
}
