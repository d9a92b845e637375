public import AssentCore
import AssentStore
import Synchronization

/// A what-if's answer: the candidate as it would apply, the version it is compared with, and
/// the engine's comparison.
public struct WhatIfOutcome: Sendable {
    public var candidate: PolicyVersion
    /// The version in force at the compared instant without the candidate.
    public var inForce: PolicyVersion
    /// The ledger's horizon: a candidate effective at or before it could not be applied for real
    /// (the past is not rewritten), but a what-if may ask what it would have changed.
    public var horizon: Instant?
    public var report: PolicyWhatIf.Report
    /// The ledger entry the comparison is exact for.
    public var asOfSeq: Int64

    public var applicable: Bool { horizon.map { candidate.effectiveFrom > $0 } ?? true }
}

extension AssentApp {
    /// Compares the candidate `document` with the policy in force, in memory: prompts,
    /// eligibility and retention at `at` (default: when the candidate takes effect, or now if
    /// later), and every run that the candidate could have changed. Writes nothing.
    /// - Throws: `invalid_policy` for a document the history refuses (a name taken, bad fields);
    ///   unlike `policy apply`, an `effectiveFrom` before the horizon is compared, and said so.
    public func whatIf(_ document: PolicyDocument, at instant: Instant? = nil) async throws -> WhatIfOutcome {
        let history = try await store.policyHistory()
        let (candidateHistory, version) = try history.applying(document, horizon: nil)
        let at = instant ?? max(clock.now(), version.effectiveFrom)
        let runs = try await store.runs().map { (name: $0.name, at: $0.at) }
        // One pass over every timeline, as of one read. The store streams them one after another;
        // the lock only satisfies Sendable.
        let state = Mutex(
            PolicyWhatIf(current: history, candidate: candidateHistory, at: at, runs: runs, candidateFrom: version.effectiveFrom))
        let seq = try await store.forEachTimeline { timeline in state.withLock { $0.add(timeline) } }
        return WhatIfOutcome(
            candidate: version, inForce: history.version(at: at), horizon: try await store.horizon(),
            report: state.withLock { $0.report }, asOfSeq: seq)
    }
}
