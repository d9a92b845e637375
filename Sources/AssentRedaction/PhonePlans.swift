/// Whether digits can be a phone number: every country's numbering plan (libphonenumber's
/// metadata, generated into `PhoneNumberingPlans.swift` by `scripts/gen-phone-plans`).
enum PhoneNumberingPlans {
    /// A number type's lengths (bit n: n digits) and the three-digit starts it allows.
    struct Kind: Sendable {
        let lengths: UInt32
        let starts: [UInt64]

        /// Whether a national significant number of these digits (values 0–9) fits.
        @inline(__always)
        func allows(_ digits: ArraySlice<UInt8>) -> Bool {
            let count = digits.count
            guard count >= 3, count < 32, lengths & (1 << UInt32(count)) != 0 else { return false }
            let k = digits.startIndex
            let start = Int(digits[k]) * 100 + Int(digits[k + 1]) * 10 + Int(digits[k + 2])
            return starts[start >> 6] & (1 << UInt64(start & 63)) != 0
        }
    }

    /// A calling code's plan: the trunk prefixes dialled nationally and its number types.
    struct Plan: Sendable {
        let trunk: [String]
        let kinds: [Kind]

        func allows(_ digits: ArraySlice<UInt8>) -> Bool { kinds.contains { $0.allows(digits) } }
    }

    /// Plans by calling code.
    static let plans: [UInt16: Plan] = generated

    /// Every plan whose numbers are dialled nationally with the trunk prefix 0 (most of Europe,
    /// Brazil, …), merged: a national number `0…` is plausible when one of them allows the rest.
    static let trunkZero: [Kind] = plans.values.filter { $0.trunk.contains("0") }.flatMap(\.kinds)

    /// `digits` after `+` (or `00`): a calling code of one to three digits and a national number its
    /// plan allows.
    static func isInternational(_ digits: [UInt8]) -> Bool {
        guard (8...15).contains(digits.count), digits[0] != 0 else { return false }
        var code: UInt16 = 0
        for length in 1...3 {
            code = code * 10 + UInt16(digits[length - 1])
            if let plan = plans[code], plan.allows(digits[length...]) { return true }
        }
        return false
    }

    /// `digits` written nationally with the trunk prefix 0.
    static func isNational(_ digits: [UInt8]) -> Bool {
        guard digits.count >= 8, digits.count <= 13, digits[0] == 0, digits[1] != 0 else { return false }
        let rest = digits[1...]
        return trunkZero.contains { $0.allows(rest) }
    }

    /// Every plan dialled nationally without a trunk prefix (Italy, Spain, Poland, Portugal,
    /// Denmark, Norway, …), merged.
    static let noTrunk: [Kind] = plans.values.filter { $0.trunk.isEmpty }.flatMap(\.kinds)

    /// `digits` written nationally in a country with no trunk prefix: the national number itself.
    static func isNationalWithoutTrunk(_ digits: [UInt8]) -> Bool {
        guard (7...12).contains(digits.count) else { return false }
        return noTrunk.contains { $0.allows(digits[...]) }
    }

    /// A North American number: ten digits (or eleven after a 1) that plan 1 allows.
    static func isNorthAmerican(_ digits: [UInt8]) -> Bool {
        let rest = digits.count == 11 && digits[0] == 1 ? digits[1...] : digits[...]
        return rest.count == 10 && plans[1]!.allows(rest)
    }
}
