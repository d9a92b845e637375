import Crypto
import Foundation

/// Detects and masks sensitive data in text (issue 5): personal data and secrets, validated where
/// a format can be (Luhn, IBAN mod-97, SSN areas), recognised by context where it cannot.
///
/// ```swift
/// let redactor = Redactor()
/// redactor.spans(in: "mail me at ana@example.com")  // [EMAIL 11..<26]
/// redactor.redact("mail me at ana@example.com")      // "mail me at [EMAIL]"
/// ```
public struct Redactor: Sendable {
    /// The version every run's export records; bump it when detection or masking changes.
    public static let version = "assent-redaction-1"

    /// How detected values are replaced.
    public enum Masking: Sendable {
        /// `[EMAIL]`, `[AWS_ACCESS_KEY]`, …
        case placeholder
        /// `[EMAIL_3f9a1c2e0b7d]`: HMAC-SHA256 of the type and value under a deployment key, so the
        /// same value maps to the same token everywhere and cannot be recovered.
        case pseudonym(key: [UInt8])
    }

    public let masking: Masking

    public init(masking: Masking = .placeholder) {
        self.masking = masking
    }

    /// The sensitive spans of `text`, in Unicode-scalar offsets, sorted, never overlapping.
    public func spans(in text: String) -> [SensitiveSpan] {
        let bytes = Self.utf8Bytes(text)
        let resolved = Self.detect(bytes)
        return Self.toScalarOffsets(resolved, bytes: bytes)
    }

    /// `text` with every sensitive span replaced.
    public func redact(_ text: String) -> String {
        redactWithSpans(text).text
    }

    /// The redacted text and what was found (in the original text's scalar offsets).
    public func redactWithSpans(_ text: String) -> (text: String, spans: [SensitiveSpan]) {
        let bytes = Self.utf8Bytes(text)
        let resolved = Self.detect(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var cursor = 0
        for span in resolved {
            out.append(contentsOf: bytes[cursor..<span.start])
            out.append(contentsOf: token(for: span.type, value: bytes[span.start..<span.end]).utf8)
            cursor = span.end
        }
        out.append(contentsOf: bytes[cursor...])
        return (String(decoding: out, as: UTF8.self), Self.toScalarOffsets(resolved, bytes: bytes))
    }

    /// The text's UTF-8 bytes, copied at once from a native string's storage.
    static func utf8Bytes(_ text: String) -> [UInt8] {
        text.utf8.withContiguousStorageIfAvailable { Array($0) } ?? Array(text.utf8)
    }

    func token(for type: SensitiveType, value: ArraySlice<UInt8>) -> String {
        switch masking {
        case .placeholder:
            return "[\(type.rawValue)]"
        case .pseudonym(let key):
            var message = Array(type.rawValue.utf8)
            message.append(0)
            message.append(contentsOf: value)
            let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
            let hex = Array(mac).prefix(6).map { String(format: "%02x", $0) }.joined()
            return "[\(type.rawValue)_\(hex)]"
        }
    }

    // MARK: Detection

    static func detect(_ bytes: [UInt8], gated: Bool = true) -> [ByteSpan] {
        var detectors = Detectors(bytes)
        detectors.runAll(gated: gated)
        return resolve(detectors.found)
    }

    /// Keeps, of overlapping candidates, the more specific (then the longer); merges nothing.
    static func resolve(_ candidates: [ByteSpan]) -> [ByteSpan] {
        // Most texts' candidates overlap nowhere: then every one is kept, in order of start.
        var byStart = candidates
        if byStart.count > 1 {
            var sorted = true
            for k in 1..<byStart.count where byStart[k].start < byStart[k - 1].start {
                sorted = false
                break
            }
            if !sorted { byStart.sort { $0.start < $1.start } }
            var reach = byStart[0].end
            var overlapping = false
            for k in 1..<byStart.count {
                if byStart[k].start < reach {
                    overlapping = true
                    break
                }
                reach = max(reach, byStart[k].end)
            }
            if !overlapping { return byStart }
        } else {
            return byStart
        }
        let ordered = candidates.sorted {
            if $0.type.priority != $1.type.priority { return $0.type.priority > $1.type.priority }
            if $0.end - $0.start != $1.end - $1.start { return $0.end - $0.start > $1.end - $1.start }
            return $0.start < $1.start
        }
        var kept: [ByteSpan] = []
        for candidate in ordered where !kept.contains(where: { $0.start < candidate.end && candidate.start < $0.end }) {
            kept.append(candidate)
        }
        return kept.sorted { $0.start < $1.start }
    }

    /// `spans` (sorted, not overlapping) in Unicode-scalar offsets: one walk over the bytes up to
    /// the last span's end, counting the bytes that start a scalar (all but UTF-8 continuations).
    static func toScalarOffsets(_ spans: [ByteSpan], bytes: [UInt8]) -> [SensitiveSpan] {
        guard !spans.isEmpty else { return [] }
        var result: [SensitiveSpan] = []
        result.reserveCapacity(spans.count)
        var byte = 0
        var scalars = 0
        func advance(to target: Int) {
            bytes.withUnsafeBytes { raw in
                // Eight bytes at a time: a byte starts a scalar unless it is 0b10xxxxxx.
                while byte + 8 <= target {
                    let word = raw.loadUnaligned(fromByteOffset: byte, as: UInt64.self)
                    let continuation = word & ~(word << 1) & 0x8080_8080_8080_8080
                    scalars += 8 - continuation.nonzeroBitCount
                    byte += 8
                }
            }
            while byte < target {
                if bytes[byte] & 0xC0 != 0x80 { scalars += 1 }
                byte += 1
            }
        }
        for span in spans {
            advance(to: span.start)
            let start = scalars
            advance(to: span.end)
            result.append(SensitiveSpan(start: start, end: scalars, type: span.type))
        }
        return result
    }

    // MARK: Validation shared by detectors

    /// The Luhn checksum over ASCII digits.
    static func luhnValid(_ digits: [UInt8]) -> Bool {
        var sum = 0
        for (k, c) in digits.reversed().enumerated() {
            var d = Int(c - 0x30)
            if k % 2 == 1 {
                d *= 2
                if d > 9 { d -= 9 }
            }
            sum += d
        }
        return sum % 10 == 0
    }

    /// Issuer prefixes of the card networks (Visa, Mastercard incl. 2-series, Amex, Discover,
    /// JCB, Diners, UnionPay, Maestro with its 12-digit numbers).
    static func isCardPrefix(_ digits: [UInt8]) -> Bool {
        func prefix(_ n: Int) -> Int { Int(String(decoding: digits.prefix(n), as: UTF8.self)) ?? -1 }
        let count = digits.count
        if digits[0] == UInt8(ascii: "4") { return [13, 16, 19].contains(count) }
        if (51...55).contains(prefix(2)) || (2221...2720).contains(prefix(4)) { return count == 16 }
        if [34, 37].contains(prefix(2)) { return count == 15 }
        if prefix(4) == 6011 || prefix(2) == 65 || (644...649).contains(prefix(3)) { return (16...19).contains(count) }
        if (3528...3589).contains(prefix(4)) { return (16...19).contains(count) }
        if prefix(4) == 2131 || prefix(4) == 1800 { return count == 15 }  // JCB's older 15-digit numbers
        if [36, 38, 39].contains(prefix(2)) || (300...305).contains(prefix(3)) { return (14...19).contains(count) }
        if prefix(2) == 62 { return (16...19).contains(count) }
        if [50, 56, 57, 58, 67].contains(prefix(2)) || prefix(2) == 63 { return (12...19).contains(count) }
        return false
    }

    /// ISO 13616: move the first four characters to the end, letters to numbers, mod 97 == 1.
    static func ibanValid(_ chars: [UInt8]) -> Bool {
        guard chars.count >= 15 else { return false }
        let rearranged = chars[4...] + chars[0..<4]
        var remainder = 0
        for c in rearranged {
            if Bytes.isDigit(c) {
                remainder = (remainder * 10 + Int(c - 0x30)) % 97
            } else if Bytes.isUpper(c) {
                remainder = (remainder * 100 + Int(c - 0x41 + 10)) % 97
            } else {
                return false
            }
        }
        return remainder == 1
    }

    /// Values that stand in for a secret rather than being one.
    static func isPlaceholder(_ value: String) -> Bool {
        let u = value.utf8
        if !u.isEmpty, !u.contains(where: { $0 >= 0x80 }) { return isASCIIPlaceholder(Array(u)[...]) }
        return isUnicodePlaceholder(value)
    }

    /// `isPlaceholder` of the bytes of a value (UTF-8): judged on the bytes when they are ASCII.
    static func isPlaceholder(bytes value: ArraySlice<UInt8>) -> Bool {
        if !value.isEmpty, !value.contains(where: { $0 >= 0x80 }) { return isASCIIPlaceholder(value) }
        return isUnicodePlaceholder(String(decoding: value, as: UTF8.self))
    }

    /// The rules of ``isASCIIPlaceholder(_:)`` on any text, on `Character`s (a property test holds
    /// the two to the same answers on ASCII values).
    static func isUnicodePlaceholder(_ value: String) -> Bool {
        let v = value.lowercased()
        if v.isEmpty { return true }
        if v.allSatisfy({ $0 == "*" || $0 == "x" || $0 == "." || $0 == "•" || $0 == "#" || $0 == "-" }) { return true }
        if v.hasPrefix("<") && v.hasSuffix(">") { return true }
        if v.hasPrefix("[") && v.hasSuffix("]") { return true }
        if v.hasPrefix("{{") || v.hasPrefix("${") || v.hasPrefix("%(")
            || v.hasPrefix("$") && !v.dropFirst().contains(where: { !$0.isLetter && $0 != "_" })
        {
            return true
        }
        if Self.placeholders.contains(v) { return true }
        if v.hasPrefix("your_") || v.hasPrefix("your-") || v.hasPrefix("<your")
            || Text(bytes: Array(v.utf8)).contains("example", in: 0..<v.utf8.count)
        {
            return true
        }
        return false
    }

    /// `isPlaceholder` for ASCII values (not empty), on the bytes (no lower-cased copy).
    static func isASCIIPlaceholder(_ u: ArraySlice<UInt8>) -> Bool {
        if u.allSatisfy({ c in
            let l = Bytes.lower(c)
            return l == 0x2A || l == 0x78 || l == 0x2E || l == 0x23 || l == 0x2D  // * x . # -
        }) {
            return true
        }
        let first = u.first!, last = u.last!
        if first == UInt8(ascii: "<") && last == UInt8(ascii: ">") || first == UInt8(ascii: "[") && last == UInt8(ascii: "]") {
            return true
        }
        if startsCaseInsensitive(u, "{{") || startsCaseInsensitive(u, "${") || startsCaseInsensitive(u, "%(")
            || first == UInt8(ascii: "$") && u.dropFirst().allSatisfy({ Bytes.isAlpha($0) || $0 == 0x5F })
        {
            return true
        }
        if u.count <= 16 {
            if placeholderKeys.contains(PackedWord(bytes: u)) { return true }
        } else if longPlaceholders.contains(where: { word in
            word.count == u.count && zip(word, u).allSatisfy { $0 == Bytes.lower($1) }
        }) {
            return true
        }
        if startsCaseInsensitive(u, "your_") || startsCaseInsensitive(u, "your-") || startsCaseInsensitive(u, "<your") { return true }
        // "example" anywhere, case-insensitively.
        return containsCaseInsensitive(u, "example")
    }

    static let placeholderKeys = PackedWord.set(placeholders)
    /// The placeholders longer than a packed word, as bytes.
    static let longPlaceholders: [[UInt8]] = placeholders.filter { $0.utf8.count > 16 }.map { Array($0.utf8) }

    static let placeholders: Set<String> = [
        "password", "pass", "pwd", "secret", "changeme_placeholder", "your_password", "yourpassword", "your-password",
        "your_api_key", "your-api-key", "your_token", "your_secret", "redacted", "example", "placeholder", "dummy", "none",
        "null", "undefined", "todo", "xxxx", "test", "mypassword", "my_password", "password123_placeholder", "insert_here",
        "replace_me",
    ]

    /// Values that name where a secret comes from (an environment variable, a config lookup).
    static func isReference(_ value: String) -> Bool {
        isReference(bytes: Array(value.utf8)[...])
    }

    /// `isReference` of the bytes of a value (UTF-8).
    static func isReference(bytes u: ArraySlice<UInt8>) -> Bool {
        // A member access in code (`form.password.value`, `cfg.db.pass`) names where the value is.
        if u.contains(UInt8(ascii: ".")), !u.contains(UInt8(ascii: "@")) {
            if u.contains(where: { $0 >= 0x80 }) {
                let value = String(decoding: u, as: UTF8.self)
                let parts = value.split(separator: ".", omittingEmptySubsequences: false)
                if parts.allSatisfy({ part in
                    guard let first = part.unicodeScalars.first, first.properties.isAlphabetic || first == "_" else { return false }
                    return part.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" }
                }) {
                    return true
                }
            } else if isMemberAccess(u) {
                return true
            }
        }
        // A shell or template variable, alone or at the head of a path: `$TOKEN`, `$B/v1/me`.
        if u.first == UInt8(ascii: "$") {
            let name = u.dropFirst().prefix { Bytes.isUpper($0) || Bytes.isDigit($0) || $0 == 0x5F }
            let rest = u.dropFirst(1 + name.count)
            if !name.isEmpty, rest.isEmpty || rest.first == UInt8(ascii: "/") { return true }
        }
        for prefix: StaticString in [
            "process.env", "os.environ", "os.getenv", "getenv(", "env[", "env.", "config.", "settings.", "secrets.", "self.", "this.",
            "request.", "args.", "vault:",
        ] where startsCaseInsensitive(u, prefix) {
            return true
        }
        if u.last == UInt8(ascii: ")"), u.contains(UInt8(ascii: "(")) { return true }  // `read()`, `get("x")`
        return u.count <= 5 && (startsCaseInsensitive(u, "true") && u.count == 4 || startsCaseInsensitive(u, "false") && u.count == 5)
    }

    /// ASCII identifiers joined by dots, none empty: `form.password.value`.
    static func isMemberAccess(_ u: ArraySlice<UInt8>) -> Bool {
        var atPartStart = true
        for c in u {
            if c == UInt8(ascii: ".") {
                if atPartStart { return false }
                atPartStart = true
            } else if atPartStart {
                guard Bytes.isAlpha(c) || c == 0x5F else { return false }
                atPartStart = false
            } else {
                guard Bytes.isAlnum(c) || c == 0x5F else { return false }
            }
        }
        return !atPartStart
    }

    /// Whether `u` starts with `prefix` (ASCII, lower case), compared case-insensitively.
    static func startsCaseInsensitive(_ u: ArraySlice<UInt8>, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard u.count >= count else { return false }
        let p = prefix.utf8Start
        var i = u.startIndex
        for k in 0..<count {
            if Bytes.lower(u[i]) != p[k] { return false }
            i += 1
        }
        return true
    }

    /// Whether `u` contains `word` (ASCII, lower case), compared case-insensitively.
    static func containsCaseInsensitive(_ u: ArraySlice<UInt8>, _ word: StaticString) -> Bool {
        u.withUnsafeBufferPointer { Bytes.contains(word, in: $0) }
    }

    /// A bare hex digest (a checksum or commit id) rather than a secret.
    static func isHexDigest(_ value: String) -> Bool {
        [32, 40, 64, 128].contains(value.utf8.count) && value.utf8.allSatisfy(Bytes.isHex)
    }
}
