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

    /// How far another server's clock may run ahead of this one's (µs) and still be taken as
    /// "now" for a run or sweep asked without an instant.
    public static let maxClockSkew: Int64 = 60 * 1_000_000

    /// The instant of a run or sweep and the "now" to check it against. Given an instant, it and
    /// the clock's now. Asked for "now" (nil), the clock's now — or the ledger's horizon when it is
    /// later by at most ``maxClockSkew``: several servers share one ledger and their clocks differ
    /// by seconds, so a server whose clock runs behind sees entries stamped "after now"; its
    /// "now" is then the newest instant the ledger knows, which no server's entry has passed.
    public static func resolve(_ instant: Instant?, horizon: Instant?, now: Instant) -> (at: Instant, now: Instant) {
        if let instant { return (instant, now) }
        if let horizon, horizon > now, horizon.microseconds - now.microseconds <= maxClockSkew { return (horizon, horizon) }
        return (now, now)
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
