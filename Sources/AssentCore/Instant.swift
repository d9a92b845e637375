/// A point in time, in whole microseconds since 1970-01-01T00:00:00Z (UTC).
///
/// Assent never reads a clock in its rules: every decision takes its instant as a parameter.
/// Microseconds match PostgreSQL's `timestamptz`; finer fractions in input are truncated.
///
/// ```swift
/// let t = try Instant(rfc3339: "2025-09-28T00:00:00Z")
/// t.rfc3339 // "2025-09-28T00:00:00Z"
/// ```
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Microseconds since the Unix epoch.
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    public init(secondsSinceEpoch seconds: Int64) { self.microseconds = seconds * 1_000_000 }

    /// 0001-01-01T00:00:00Z: the `effectiveFrom` of the built-in policy, "the beginning of time".
    public static let beginningOfTime = Instant(civil: CivilDateTime(year: 1, month: 1, day: 1))

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.microseconds < rhs.microseconds }

    public var description: String { rfc3339 }

    /// This instant moved by a number of seconds (negative moves back).
    public func adding(seconds: Int64) -> Instant { Instant(microseconds: microseconds + seconds * 1_000_000) }
}

/// A UTC calendar date and time of day, the form calendar arithmetic works in.
public struct CivilDateTime: Hashable, Sendable {
    public var year: Int
    public var month: Int
    public var day: Int
    /// Microseconds since midnight.
    public var timeOfDay: Int64

    public init(year: Int, month: Int, day: Int, timeOfDay: Int64 = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.timeOfDay = timeOfDay
    }

    static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

private let microsPerDay: Int64 = 86_400_000_000

extension Instant {
    /// The instant of a UTC calendar date and time of day.
    public init(civil: CivilDateTime) {
        let days = Int64(Instant.daysFromCivil(year: civil.year, month: civil.month, day: civil.day))
        self.init(microseconds: days * microsPerDay + civil.timeOfDay)
    }

    /// The UTC calendar date and time of day of this instant.
    public var civil: CivilDateTime {
        var days = microseconds / microsPerDay
        var rest = microseconds % microsPerDay
        if rest < 0 {
            rest += microsPerDay
            days -= 1
        }
        let (y, m, d) = Instant.civilFromDays(Int(days))
        return CivilDateTime(year: y, month: m, day: d, timeOfDay: rest)
    }

    // Howard Hinnant's days_from_civil / civil_from_days: exact proleptic Gregorian arithmetic.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

// MARK: - RFC 3339

extension Instant {
    /// Parses an RFC 3339 timestamp: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    ///
    /// Offsets other than `Z` are accepted and converted to UTC. Fractions finer than a
    /// microsecond are truncated.
    /// - Throws: `invalid_argument` naming what is malformed.
    public init(rfc3339 text: String) throws(AssentError) {
        guard let instant = Instant.parse(text) else {
            throw .invalidArgument("malformed instant \(Instant.quoted(text)): expected RFC 3339 like 2025-09-28T00:00:00Z")
        }
        self = instant
    }

    static func quoted(_ text: String) -> String {
        let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
        return "\"\(shown)\""
    }

    /// Parses RFC 3339, or nil when malformed.
    public static func parse(_ text: String) -> Instant? {
        var text = text
        return text.withUTF8 { parse(utf8: $0) }
    }

    static func parse(utf8 b: UnsafeBufferPointer<UInt8>) -> Instant? {
        let n = b.count
        guard n >= 20 else { return nil }
        func digits(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for i in start..<(start + count) {
                let c = b[i]
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            return value
        }
        guard let year = digits(0, 4), b[4] == 45, let month = digits(5, 2), b[7] == 45,
            let day = digits(8, 2), b[10] == 84 || b[10] == 116,
            let hour = digits(11, 2), b[13] == 58, let minute = digits(14, 2), b[16] == 58,
            let second = digits(17, 2)
        else { return nil }
        guard year >= 1, (1...12).contains(month), day >= 1, day <= CivilDateTime.daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 59
        else { return nil }
        var i = 19
        var micros: Int64 = 0
        if b[i] == 46 {  // "."
            i += 1
            var places = 0
            let start = i
            while i < n, b[i] >= 48, b[i] <= 57 {
                if places < 6 {
                    micros = micros * 10 + Int64(b[i] - 48)
                    places += 1
                }
                i += 1
            }
            guard i > start else { return nil }
            while places < 6 {
                micros *= 10
                places += 1
            }
        }
        guard i < n else { return nil }
        var offsetSeconds: Int64 = 0
        if b[i] == 90 || b[i] == 122 {  // Z z
            i += 1
        } else if b[i] == 43 || b[i] == 45 {  // + -
            guard n - i == 6, let oh = digits(i + 1, 2), b[i + 3] == 58, let om = digits(i + 4, 2),
                oh <= 23, om <= 59
            else { return nil }
            offsetSeconds = Int64(oh * 3600 + om * 60) * (b[i] == 43 ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == n else { return nil }
        let timeOfDay = Int64(hour * 3600 + minute * 60 + second) * 1_000_000 + micros
        let local = Instant(civil: CivilDateTime(year: year, month: month, day: day, timeOfDay: timeOfDay))
        return local.adding(seconds: -offsetSeconds)
    }

    /// The canonical RFC 3339 form in UTC: `2025-09-28T00:00:00Z`, with `.mmm` or `.uuuuuu`
    /// only when the instant has a fraction of a second.
    public var rfc3339: String {
        var out: [UInt8] = []
        out.reserveCapacity(27)
        writeRFC3339(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends ``rfc3339``'s UTF-8 to `out` (a run's manifest formats millions of these).
    public func writeRFC3339(to out: inout [UInt8]) {
        let c = civil
        // Digits written in place.
        func put(_ value: Int, _ width: Int) {
            let start = out.count
            out.append(contentsOf: repeatElement(48, count: width))
            var v = value
            var k = start + width - 1
            while k >= start {
                out[k] = UInt8(48 + v % 10)
                v /= 10
                k -= 1
            }
        }
        put(c.year, 4)
        out.append(45)
        put(c.month, 2)
        out.append(45)
        put(c.day, 2)
        out.append(84)
        let seconds = Int(c.timeOfDay / 1_000_000)
        put(seconds / 3600, 2)
        out.append(58)
        put(seconds / 60 % 60, 2)
        out.append(58)
        put(seconds % 60, 2)
        let fraction = Int(c.timeOfDay % 1_000_000)
        if fraction != 0 {
            out.append(46)
            if fraction % 1000 == 0 { put(fraction / 1000, 3) } else { put(fraction, 6) }
        }
        out.append(90)
    }
}

extension Duration {
    /// The duration in seconds, fractions included (for metrics, logs and backoffs).
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }

    /// The duration in whole microseconds, the ledger's precision (what is finer is dropped).
    public var inMicroseconds: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }
}
