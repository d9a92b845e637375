/// What a ledger entry means for the data downstream systems hold (issue 14's change feed).
public enum TrainingEffect: String, CaseIterable, Hashable, Sendable {
    /// The account may be trained on from here: a consumer plan with the choice on.
    case included
    /// The account, or the conversation the entry names, may not enter new runs from here.
    case excluded
    /// Content was purged: copies of it must go.
    case purged
}

/// The entries of the change feed and what each means, decided from the account's timeline.
public enum ChangeFeed {
    /// The event types that change what downstream may hold: training choices, terms acceptance,
    /// conversation and account deletions, purges and plan changes.
    public static let types: [EventType] = [
        .trainingChoice, .termsAccepted, .conversationDeleted, .accountDeleted, .contentPurged, .planChanged,
    ]

    /// Whether ``effect(of:in:policies:)`` reads the account's timeline for this type (the others
    /// are decided by the event alone).
    public static func needsTimeline(_ type: EventType) -> Bool {
        type == .trainingChoice || type == .termsAccepted || type == .planChanged
    }

    /// What `entry` means for training.
    ///
    /// Deletions exclude and purges purge whatever else holds. A choice, a terms acceptance or a
    /// plan change gives the account's `optedIn` (SPEC §4) just after the entry, in the ledger as
    /// it stood when the entry was written (entries with a later sequence number, backfills
    /// included, are not read): `included` on a consumer plan with the choice on, else `excluded`.
    /// So the same entry always means the same, however often a consumer reads it.
    ///
    /// - Parameters:
    ///   - timeline: the account's timeline; needed only where ``needsTimeline(_:)`` says so.
    public static func effect(of entry: TimelineEntry, in timeline: AccountTimeline?, policies: PolicyHistory) -> TrainingEffect {
        switch entry.event.body {
        case .contentPurged: return .purged
        case .conversationDeleted, .accountDeleted: return .excluded
        case .trainingChoice(.off, _, _, _): return .excluded
        default: break
        }
        guard let timeline = timeline?.upTo(seq: entry.seq) else { return .excluded }
        return timeline.isOptedIn(at: entry.stamp, policy: policies.policy(at: entry.event.at)) ? .included : .excluded
    }
}
