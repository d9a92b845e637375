/// A length of time written as in the policy document: `"5y"` (calendar years) or `"30d"` (days).
///
/// Years are calendar arithmetic in UTC: the same month, day and time of day N years later, and
/// 29 February lands on 28 February in a year without one. Days are exact 24-hour days.
///
/// ```swift
/// let five = try RetentionPeriod(parsing: "5y", field: "optInRetention")
/// five.added(to: try Instant(rfc3339: "2024-02-29T12:00:00Z")) // 2029-02-28T12:00:00Z
/// ```
public struct RetentionPeriod: Hashable, Sendable, CustomStringConvertible {
    public enum Unit: String, Sendable, Hashable {
        case years = "y"
        case days = "d"
    }

    public let amount: Int
    public let unit: Unit

    /// The largest amount accepted, so that instants stay far from overflow.
    static let maximumAmount: [Unit: Int] = [.years: 1000, .days: 366_000]

    public init(amount: Int, unit: Unit) {
        self.amount = amount
        self.unit = unit
    }

    public static func years(_ n: Int) -> RetentionPeriod { RetentionPeriod(amount: n, unit: .years) }
    public static func days(_ n: Int) -> RetentionPeriod { RetentionPeriod(amount: n, unit: .days) }

    /// Parses `"<n>y"` or `"<n>d"`.
    /// - Parameters:
    ///   - text: the written period.
    ///   - field: the policy field it belongs to, named in errors.
    /// - Throws: `invalid_policy` when malformed, negative or too large.
    public init(parsing text: String, field: String) throws(AssentError) {
        let trimmed = text
        guard let last = trimmed.last, let unit = Unit(rawValue: String(last)) else {
            throw .invalidPolicy(
                "\(field): \(Instant.quoted(text)) is not a period; write a whole number of years or days like \"5y\" or \"30d\"")
        }
        let number = trimmed.dropLast()
        if number.hasPrefix("-"), Int(number.dropFirst()) != nil {
            throw .invalidPolicy("\(field): \(Instant.quoted(text)) is negative; a period must be zero or more")
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }), let amount = Int(number) else {
            throw .invalidPolicy(
                "\(field): \(Instant.quoted(text)) is not a period; write a whole number of years or days like \"5y\" or \"30d\"")
        }
        guard amount <= RetentionPeriod.maximumAmount[unit]! else {
            throw .invalidPolicy("\(field): \(Instant.quoted(text)) is longer than \(RetentionPeriod.maximumAmount[unit]!)\(unit.rawValue)")
        }
        self.init(amount: amount, unit: unit)
    }

    public var description: String { "\(amount)\(unit.rawValue)" }

    /// `instant` plus this period.
    public func added(to instant: Instant) -> Instant {
        switch unit {
        case .days:
            return Instant(microseconds: instant.microseconds + Int64(amount) * 86_400_000_000)
        case .years:
            var c = instant.civil
            c.year += amount
            c.day = min(c.day, CivilDateTime.daysIn(month: c.month, year: c.year))
            return Instant(civil: c)
        }
    }
}
