public import AssentCore
import Foundation

/// The one clock of Assent's use cases: wall-clock time in production, an offset clock for the
/// demo, a hand-moved one in tests. The rules never read it; the service passes "now" to them.
public struct Clock: Sendable {
    public let now: @Sendable () -> Instant

    public init(now: @escaping @Sendable () -> Instant) {
        self.now = now
    }

    /// The one place outside tests where Assent reads the time of day.
    public static func wallNow() -> Instant {
        Instant(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down)))
    }

    /// Wall-clock time.
    public static let system = Clock { wallNow() }

    /// Wall-clock time moved by `seconds` (the demo's clock: its data lives in 2025).
    public static func offset(seconds: Int64) -> Clock {
        Clock { Instant(microseconds: wallNow().microseconds + seconds * 1_000_000) }
    }

    /// The clock `serve` runs on: wall-clock time, moved by `ASSENT_CLOCK_OFFSET_SECONDS` only
    /// under `--demo` (a moved clock in production would accept expired tokens or future events).
    /// - Returns: the clock, and a warning to log when the offset is set but ignored.
    /// - Throws: `invalid_argument` for an offset that is not a whole number of seconds.
    public static func fromEnvironment(_ environment: [String: String], demo: Bool) throws(AssentError) -> (clock: Clock, warning: String?)
    {
        guard let text = environment["ASSENT_CLOCK_OFFSET_SECONDS"], !text.isEmpty else { return (.system, nil) }
        guard let seconds = Int64(text), abs(seconds) <= 100 * 365 * 86_400 else {
            throw .invalidArgument("ASSENT_CLOCK_OFFSET_SECONDS must be a whole number of seconds within a century")
        }
        guard demo else {
            return (.system, "ASSENT_CLOCK_OFFSET_SECONDS is set but ignored: the clock moves only under serve --demo")
        }
        return (.offset(seconds: seconds), nil)
    }
}
