/// What a retention sweep at T purges (SPEC §5): content whose retainUntil ≤ T that no earlier
/// sweep purged.
extension PolicyEngine {
    /// One purge: the `content.purged` event to record and the entries whose content goes.
    public struct Purge: Hashable, Sendable {
        public var event: Event
        public var entries: [Evidence]
    }

    /// The purges a sweep at `instant` makes in one account: per conversation, its unpurged
    /// exchanges once the conversation's retainUntil ≤ T; per feedback, the feedback once its own
    /// retainUntil ≤ T. Deleted accounts are swept too.
    public func purges(in account: AccountTimeline, at instant: Instant) -> [Purge] {
        let policy = policies.policy(at: instant)
        let bound = Stamp.endOf(instant)
        var out: [Purge] = []
        for c in account.conversations where c.activities[0].at <= instant {
            let unpurged = c.activities.filter { $0.stamp <= bound && !c.isPurged($0, asOf: bound) }
            if !unpurged.isEmpty, let retention = conversationRetention(c, in: account, bound: bound, policy: policy),
                retention.retainUntil <= instant
            {
                out.append(
                    Purge(
                        event: Event(account: account.account, at: instant, .contentPurged(conversation: c.id, feedback: nil)),
                        entries: unpurged))
            }
            for f in c.feedback
            where f.submitted.at <= instant && f.purge == nil
                && feedbackRetention(f, of: c, in: account, bound: bound, policy: policy).retainUntil <= instant
            {
                out.append(
                    Purge(
                        event: Event(account: account.account, at: instant, .contentPurged(conversation: c.id, feedback: f.id)),
                        entries: [f.submitted]))
            }
        }
        return out
    }
}
