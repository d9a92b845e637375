public import AssentCore
import Foundation

/// The one place outside tests where Assent reads the clock; the rules never do.
public enum WallClock {
    public static func now() -> Instant {
        Instant(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down)))
    }
}
