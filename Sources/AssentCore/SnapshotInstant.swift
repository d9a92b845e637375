/// When a run or a sweep may be taken (SPEC §4).
///
/// A run or a sweep at T moves the ledger's horizon to T. T may not precede the horizon (a run
/// cannot be backdated past what is known to be withdrawn or purged, and sweeps stay in time
/// order), nor be later than the clock's now: a T in the future would move the horizon there and
/// lock every later run, sweep and policy out. A sweep's dry run writes nothing and moves nothing,
/// so it may be asked at any instant.
public enum SnapshotInstant {
    /// What is being taken at T.
    public enum Operation: String, Sendable {
        case run
        case sweep
    }

    /// Checks that `operation` may be taken at `instant`.
    /// - Parameters:
    ///   - horizon: the ledger's horizon (SPEC §2), nil for a ledger with no event yet.
    ///   - now: the clock's now.
    /// - Throws: `invalid_argument` when `instant` precedes the horizon or is after `now`.
    public static func check(_ instant: Instant, for operation: Operation, horizon: Instant?, now: Instant) throws(AssentError) {
        if instant > now {
            throw .invalidArgument("a \(operation.rawValue) cannot be in the future: \(instant) is after now (\(now))")
        }
        if let horizon, instant < horizon {
            throw .invalidArgument("a \(operation.rawValue) cannot be backdated: \(instant) precedes the ledger's horizon \(horizon)")
        }
    }
}
