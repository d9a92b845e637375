import Foundation

/// Realistic sensitive values, valid where a format can be validated (Luhn, IBAN mod-97, SSN
/// areas), for demo exchanges and for testing redaction.
public enum SensitiveData {
    static let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    static let lower = "abcdefghijklmnopqrstuvwxyz"
    static let digits = "0123456789"
    static let alnum = upper + lower + digits
    static let base64 = alnum + "+/"
    static let base64url = alnum + "-_"

    public static let firstNames = [
        "Maria", "James", "Aisha", "Wei", "Olga", "Carlos", "Priya", "Liam", "Fatima", "Noah",
        "Sofia", "Mateo", "Yuki", "Emma", "Kwame", "Elena", "Omar", "Hannah", "Diego", "Chloe",
    ]
    public static let lastNames = [
        "Garcia", "Smith", "Khan", "Zhang", "Petrova", "Silva", "Patel", "O'Brien", "Haddad", "Miller",
        "Rossi", "Fernandez", "Tanaka", "Johnson", "Mensah", "Novak", "Farouk", "Becker", "Lopez", "Martin",
    ]
    static let streets = ["Maple Street", "Oak Avenue", "Elm Road", "Sunset Boulevard", "Harbor Lane", "Church Street", "Mill Road"]
    static let cities = [
        ("Springfield", "IL", "62704"), ("Portland", "OR", "97205"), ("Austin", "TX", "78701"),
        ("Madison", "WI", "53703"), ("Boulder", "CO", "80302"), ("Raleigh", "NC", "27601"),
    ]
    static let domains = ["gmail.com", "outlook.com", "proton.me", "yahoo.com", "fastmail.com", "company.io"]

    public static func name(_ r: inout DemoRandom) -> String { "\(r.pick(firstNames)) \(r.pick(lastNames))" }

    public static func email(_ r: inout DemoRandom) -> String {
        let first = r.pick(firstNames).lowercased()
        let last = r.pick(lastNames).lowercased().replacingOccurrences(of: "'", with: "")
        return "\(first).\(last)\(r.int(1...99))@\(r.pick(domains))"
    }

    public static func phone(_ r: inout DemoRandom) -> String {
        switch r.int(0...2) {
        case 0: return "(\(r.int(201...989))) \(r.int(200...999))-\(r.string(4, from: digits))"
        case 1: return "+1 \(r.int(201...989)) \(r.int(200...999)) \(r.string(4, from: digits))"
        default: return "+44 7\(r.string(3, from: digits)) \(r.string(6, from: digits))"
        }
    }

    /// A card number passing the Luhn check, from Visa, Mastercard (51–55 and 2221–2720) or Amex.
    public static func card(_ r: inout DemoRandom) -> String {
        var prefix: String
        var length = 16
        switch r.int(0...3) {
        case 0: prefix = "4"
        case 1: prefix = String(r.int(51...55))
        case 2: prefix = String(r.int(2221...2720))
        default:
            prefix = r.pick(["34", "37"])
            length = 15
        }
        var number = prefix + r.string(length - prefix.count - 1, from: digits)
        number.append(String(luhnCheckDigit(number)))
        guard r.chance(50) else { return number }
        // Grouped as people type them.
        let chars = Array(number)
        let groups = length == 15 ? [4, 6, 5] : [4, 4, 4, 4]
        var out: [String] = []
        var k = 0
        for g in groups {
            out.append(String(chars[k..<(k + g)]))
            k += g
        }
        return out.joined(separator: r.pick([" ", "-"]))
    }

    public static func luhnCheckDigit(_ partial: String) -> Int {
        var sum = 0
        for (k, ch) in partial.reversed().enumerated() {
            var d = Int(String(ch))!
            if k % 2 == 0 {
                d *= 2
                if d > 9 { d -= 9 }
            }
            sum += d
        }
        return (10 - sum % 10) % 10
    }

    /// A US SSN with a valid area (not 000, 666 or 900–999), group and serial.
    public static func ssn(_ r: inout DemoRandom) -> String {
        var area = r.int(1...899)
        if area == 666 { area = 667 }
        let areaText = String(area).leftPadded(3)
        return "\(areaText)-\(String(r.int(1...99)).leftPadded(2))-\(String(r.int(1...9999)).leftPadded(4))"
    }

    /// An IBAN with correct mod-97 check digits (German or British layout).
    public static func iban(_ r: inout DemoRandom) -> String {
        let (country, bban) =
            r.chance(50)
            ? ("DE", r.string(18, from: digits))
            : ("GB", r.pick(["NWBK", "BARC", "HBUK", "LOYD"]) + r.string(14, from: digits))
        let rearranged = bban + country + "00"
        var remainder = 0
        for ch in rearranged {
            let value = ch.isNumber ? Int(String(ch))! : Int(ch.asciiValue! - 55)
            for digit in String(value) { remainder = (remainder * 10 + Int(String(digit))!) % 97 }
        }
        let check = String(98 - remainder).leftPadded(2)
        let plain = country + check + bban
        guard r.chance(50) else { return plain }
        var grouped: [String] = []
        var chars = Array(plain)[...]
        while !chars.isEmpty {
            grouped.append(String(chars.prefix(4)))
            chars = chars.dropFirst(4)
        }
        return grouped.joined(separator: " ")
    }

    public static func ipAddress(_ r: inout DemoRandom) -> String {
        "\(r.pick([23, 52, 81, 104, 142, 172, 185, 203])).\(r.int(0...255)).\(r.int(0...255)).\(r.int(1...254))"
    }

    public static func address(_ r: inout DemoRandom) -> String {
        let (city, state, zip) = r.pick(cities)
        return "\(r.int(12...9876)) \(r.pick(streets)), \(city), \(state) \(zip)"
    }

    public static func awsAccessKey(_ r: inout DemoRandom) -> String { "AKIA" + r.string(16, from: upper + "234567") }
    public static func awsSecretKey(_ r: inout DemoRandom) -> String { r.string(40, from: base64) }
    public static func githubToken(_ r: inout DemoRandom) -> String { r.pick(["ghp_", "gho_", "ghs_"]) + r.string(36, from: alnum) }
    public static func slackToken(_ r: inout DemoRandom) -> String {
        "xoxb-\(r.string(11, from: digits))-\(r.string(12, from: digits))-\(r.string(24, from: alnum))"
    }
    public static func stripeKey(_ r: inout DemoRandom) -> String { r.pick(["sk_live_", "rk_live_"]) + r.string(24, from: alnum) }
    public static func openAIKey(_ r: inout DemoRandom) -> String { "sk-proj-" + r.string(48, from: alnum + "-_") }
    public static func anthropicKey(_ r: inout DemoRandom) -> String { "sk-ant-api03-" + r.string(93, from: base64url) + "AA" }
    public static func googleAPIKey(_ r: inout DemoRandom) -> String { "AIza" + r.string(35, from: base64url) }

    public static func jwt(_ r: inout DemoRandom) -> String {
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + "eyJ" + r.string(r.int(40...90), from: base64url) + "." + r.string(43, from: base64url)
    }

    public static func privateKey(_ r: inout DemoRandom) -> String {
        let body = (0..<r.int(4...8)).map { _ in r.string(64, from: base64) }.joined(separator: "\n")
        return "-----BEGIN RSA PRIVATE KEY-----\n\(body)\n-----END RSA PRIVATE KEY-----"
    }

    /// A password a person would choose.
    public static func password(_ r: inout DemoRandom) -> String {
        let words = ["Sunshine", "Dragon", "Monkey", "Summer", "Winter", "Tigers", "Purple", "Coffee", "Rocket", "Falcon"]
        switch r.int(0...2) {
        case 0: return "\(r.pick(words))\(r.int(1970...2025))\(r.pick(["!", "#", "$", "?"]))"
        case 1: return "\(r.pick(words).lowercased())_\(r.pick(words).lowercased())\(r.int(1...99))"
        default: return r.string(r.int(10...16), from: alnum + "!@#$%")
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
